/**
 * Writes that race, over HTTP through `npm start` (serverless-offline and DynamoDB Local), with
 * the contract's 30 s play cooldown: concurrent PATCHes of different metadata keys all land
 * (CONTRACT: Metadata rules), and plays sent late with their play time count by play time
 * (CONTRACT: Plays). The per-caller limits are lifted: their own tests have them.
 */
import { DynamoDBDocumentClient, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadTableDefinitions } from "../../scripts/local/serverless-config.ts";
import { type RunningStack, startStack } from "../../scripts/local/stack.ts";
import { localClient } from "../../scripts/local/tables.ts";
import { call } from "../helpers/http.ts";
import { audience, issuer, tokenFor, uniqueUser } from "../helpers/tokens.ts";

const COOLDOWN = 30_000;
let stack: RunningStack;
let playlistsTable: string;

beforeAll(async () => {
  stack = await startStack({
    AUTH_ISSUER: issuer(),
    AUTH_AUDIENCE: audience(),
    PLAY_COOLDOWN_SECONDS: "30",
    USER_WRITES_PER_SECOND: "100000",
    USER_READS_PER_SECOND: "100000",
    USER_WRITE_UNITS_PER_SECOND: "1000000",
    USER_READ_UNITS_PER_SECOND: "1000000",
  });
  const definitions = loadTableDefinitions("dev");
  playlistsTable = definitions.find((d) => d.logicalId === "PlaylistsTable")?.properties
    .TableName as string;
});
afterAll(async () => {
  await stack?.stop();
});

const api = (method: string, path: string, options: Parameters<typeof call>[3] = {}) =>
  call(stack.baseUrl, method, path, options);
const userPath = (sub: string) => `/users/${encodeURIComponent(sub)}`;

async function self() {
  const sub = uniqueUser();
  return { sub, token: await tokenFor(sub) };
}

describe("concurrent PATCHes of one user's metadata", () => {
  it.each([40, 100])(
    "lands all of %i PATCHes of different keys: every one 200, every key there",
    async (writers) => {
      const { sub, token } = await self();
      const responses = await Promise.all(
        Array.from({ length: writers }, (_, i) =>
          api("PATCH", userPath(sub), { token, body: { user_metadata: { [`k${i}`]: i } } }),
        ),
      );
      expect(responses.map((r) => r.status)).toEqual(responses.map(() => 200));
      const { body } = await api("GET", userPath(sub), { token });
      expect(body.user_metadata).toEqual(
        Object.fromEntries(Array.from({ length: writers }, (_, i) => [`k${i}`, i])),
      );
    },
  );

  it("lets one of two PATCHes of the same key with the same If-Match win; the other is 412", async () => {
    const { sub, token } = await self();
    const first = await api("PATCH", userPath(sub), { token, body: { user_metadata: { a: 0 } } });
    const etag = first.headers.get("etag") as string;
    const responses = await Promise.all(
      [1, 2].map((a) =>
        api("PATCH", userPath(sub), {
          token,
          body: { user_metadata: { a } },
          headers: { "if-match": etag },
        }),
      ),
    );
    expect(responses.map((r) => r.status).sort()).toEqual([200, 412]);
  });

  it("never stores more than 32 kB when concurrent writers together would pass it", async () => {
    const { sub, token } = await self();
    const responses = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        api("PATCH", userPath(sub), {
          token,
          body: { user_metadata: { [`k${i}`]: "z".repeat(5_000) } },
        }),
      ),
    );
    expect(responses.filter((r) => r.status === 200)).toHaveLength(6);
    const refused = responses.filter((r) => r.status !== 200);
    expect(refused.map((r) => r.body.errorCode)).toEqual(refused.map(() => "metadata_too_large"));
    const { body } = await api("GET", userPath(sub), { token });
    expect(Buffer.byteLength(JSON.stringify(body.user_metadata))).toBeLessThanOrEqual(32_768);
  });
});

describe("plays sent late with their play time", () => {
  /** A playlist created `ageMs` ago, as one created then is stored. */
  async function playlistOf(ageMs: number) {
    const { sub, token } = await self();
    const { body } = await api("POST", "/playlists", { token, body: { name: "Flight" } });
    const createdAt = Date.now() - ageMs;
    const db = DynamoDBDocumentClient.from(localClient(`http://127.0.0.1:${stack.dynamodbPort}`));
    await db.send(
      new UpdateCommand({
        TableName: playlistsTable,
        Key: { user_id: sub, playlist_id: body.playlistId },
        UpdateExpression: "SET created_at = :at",
        ExpressionAttributeValues: { ":at": new Date(createdAt).toISOString() },
      }),
    );
    db.destroy();
    return { token, playlistId: body.playlistId as string, createdAt };
  }
  const play = (token: string, playlistId: string, at: number) =>
    api("POST", `/playlists/${playlistId}/plays`, {
      token,
      body: { playedAt: new Date(at).toISOString() },
    });

  it("counts ten plays spaced exactly the cooldown sent in reverse order", async () => {
    const { token, playlistId, createdAt } = await playlistOf(10 * COOLDOWN);
    for (let i = 9; i >= 0; i--) {
      expect((await play(token, playlistId, createdAt + i * COOLDOWN)).status).toBe(200);
    }
    expect((await api("GET", "/playlists/getPlays", { token })).body).toEqual({ plays: 10 });
  });

  it("counts one of two plays closer than the cooldown sent at once from two devices", async () => {
    const { token, playlistId, createdAt } = await playlistOf(10 * COOLDOWN);
    const responses = await Promise.all(
      [3.2, 2.7].map((n) => play(token, playlistId, createdAt + n * COOLDOWN)),
    );
    expect(responses.map((r) => r.status).sort()).toEqual([200, 429]);
    const refused = responses.find((r) => r.status === 429);
    expect(refused?.body.errorCode).toBe("play_too_soon");
    expect(Number(refused?.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  });

  it("refuses a playedAt more than 7 days ago with 400 invalid_played_at", async () => {
    const { token, playlistId } = await playlistOf(8 * 24 * 3600_000);
    const refused = await play(token, playlistId, Date.now() - 7 * 24 * 3600_000 - 1_000);
    expect(refused.status).toBe(400);
    expect(refused.body.errorCode).toBe("invalid_played_at");
    expect((await api("GET", "/playlists/getPlays", { token })).body).toEqual({ plays: 0 });
  });
});
