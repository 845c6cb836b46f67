import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LambdaHandler } from "../../lib/http/handler.ts";
import { startDynamoProxy } from "../../scripts/local/dynamo-proxy.ts";
import { type LocalDynamoDb, startDynamoDb } from "../../scripts/local/dynamodb.ts";
import { freePort } from "../../scripts/local/ports.ts";
import { loadTableDefinitions } from "../../scripts/local/serverless-config.ts";
import { ensureTables, localClient } from "../../scripts/local/tables.ts";
import { type EventChanges, httpEvent, invoke } from "../helpers/invoke.ts";
import { pastTokenCutOff, tokenFor, uniqueUser } from "../helpers/tokens.ts";

/**
 * DynamoDB going away, hanging and throttling under the real handlers. This file has its own
 * DynamoDB Local (on disk, so a restart keeps the data) behind a proxy that can misbehave.
 */
let dynamo: LocalDynamoDb;
let proxy: Awaited<ReturnType<typeof startDynamoProxy>>;
let dynamoPort: number;
let dataPath: string;
const handlers: Record<string, LambdaHandler> = {};

beforeAll(async () => {
  dynamoPort = await freePort();
  dataPath = mkdtempSync(join(tmpdir(), "music-faults-"));
  dynamo = await startDynamoDb({ port: dynamoPort, dataPath });
  const client = localClient(dynamo.endpoint);
  await ensureTables(client, loadTableDefinitions(), (d) => process.env[d.envVar] as string);
  client.destroy();
  proxy = await startDynamoProxy(dynamoPort);
  // The functions read their configuration when first imported: point them at the proxy, with
  // the production timeouts (the shared test setup relaxes them for the busy emulator).
  process.env.DYNAMODB_ENDPOINT = proxy.endpoint;
  delete process.env.DYNAMODB_CONNECT_TIMEOUT_MS;
  delete process.env.DYNAMODB_REQUEST_TIMEOUT_MS;
  for (const name of ["songs", "playlists", "getPlays", "users", "displayName"]) {
    handlers[name] = (await import(`../../functions/${name}.ts`)).handler as LambdaHandler;
  }
});

afterAll(async () => {
  await proxy?.close();
  await dynamo?.stop();
});

const call = (fn: string, fixture: string, changes: EventChanges) =>
  invoke(handlers[fn] as LambdaHandler, httpEvent(fixture, changes));

/** Runs `work` with the proxy misbehaving as `fault` sets it, then lets requests pass again. */
async function whileFaulty<T>(fault: () => void, work: () => Promise<T>): Promise<T> {
  fault();
  try {
    return await work();
  } finally {
    proxy.setMode("pass");
  }
}

/** A new playlist of the caller's; answers its id. */
async function newPlaylist(token: string, name = "P"): Promise<string> {
  const { body } = await call("playlists", "createPlaylist", {
    token,
    body: { name },
    headers: { "idempotency-key": null },
  });
  return body.playlistId;
}

const play = (token: string, playlistId: string) =>
  call("playlists", "playPlaylist", { token, pathParameters: { playlistId } });

async function timed<T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await work();
  return { result, ms: performance.now() - started };
}

function expectUnavailable(response: Awaited<ReturnType<typeof invoke>>) {
  expect(response.statusCode).toBe(503);
  expect(response.headers["retry-after"]).toMatch(/^\d+$/);
  expect(response.body).toEqual({
    statusCode: 503,
    error: "Service Unavailable",
    message: "The service is temporarily unavailable; retry shortly",
    errorCode: "temporarily_unavailable",
  });
}

describe("DynamoDB faults", () => {
  it("answers 503 with Retry-After while DynamoDB is down, keeps every earlier write, and recovers", async () => {
    const sub = uniqueUser();
    const token = await tokenFor(sub);
    const song = await call("songs", "createSong", {
      token,
      body: { songName: "Before", genre: "g" },
      headers: { "idempotency-key": null },
    });
    const playlistId = await newPlaylist(token);
    for (let i = 0; i < 3; i++) await play(token, playlistId);
    await call("displayName", "setDisplayName", { token, body: { displayName: "Before outage" } });

    await dynamo.stop();
    const during = await Promise.all([
      timed(() => call("songs", "listSongs", { token })),
      timed(() =>
        call("songs", "createSong", {
          token,
          body: { songName: "During", genre: "g" },
          headers: { "idempotency-key": null },
        }),
      ),
      timed(() => play(token, playlistId)),
      timed(() =>
        call("displayName", "setDisplayName", { token, body: { displayName: "During outage" } }),
      ),
      timed(() => call("getPlays", "getTotalPlays", { token })),
    ]);
    for (const { result, ms } of during) {
      expectUnavailable(result);
      expect(ms).toBeLessThan(9_000);
    }

    dynamo = await startDynamoDb({ port: dynamoPort, dataPath });
    expect(
      (await call("songs", "getSong", { token, pathParameters: { songId: song.body.songId } })).body
        .songName,
    ).toBe("Before");
    expect((await call("displayName", "getDisplayName", { token })).body).toEqual({
      displayName: "Before outage",
    });
    // No half-done play: the playlist and the total agree, with the refused play in neither.
    const stored = await call("playlists", "getPlaylist", {
      token,
      pathParameters: { playlistId },
    });
    expect(stored.body.plays).toBe(3);
    expect((await call("getPlays", "getTotalPlays", { token })).body).toEqual({ plays: 3 });
    const songs = (await call("songs", "listSongs", { token })).body.songs.map(
      (s: { songName: string }) => s.songName,
    );
    expect(songs).toEqual(["Before"]);
    // And it works again.
    expect((await play(token, playlistId)).body.plays).toBe(4);
  }, 60_000);

  it("answers 503 within the function's timeout when DynamoDB hangs", async () => {
    const token = await tokenFor(uniqueUser());
    const { result, ms } = await whileFaulty(
      () => proxy.setMode("hang"),
      () => timed(() => call("songs", "listSongs", { token })),
    );
    expectUnavailable(result);
    expect(ms).toBeLessThan(9_500);
  }, 30_000);

  it("answers 503 when DynamoDB throttles, and writes nothing", async () => {
    const token = await tokenFor(uniqueUser());
    const created = await whileFaulty(
      () => proxy.setMode("throttle"),
      () =>
        call("songs", "createSong", {
          token,
          body: { songName: "x", genre: "g" },
          headers: { "idempotency-key": null },
        }),
    );
    expectUnavailable(created);
    expect((await call("songs", "listSongs", { token })).body.songs).toEqual([]);
  }, 30_000);

  it("leaves a playlist and the play total intact when a delete fails part way", async () => {
    const token = await tokenFor(uniqueUser());
    const playlistId = await newPlaylist(token);
    for (let i = 0; i < 4; i++) await play(token, playlistId);
    const response = await whileFaulty(
      () => proxy.failAfter(1), // the read passes; the transaction does not
      () =>
        call("playlists", "deletePlaylist", {
          token,
          pathParameters: { playlistId },
        }),
    );
    expectUnavailable(response);
    expect(
      (
        await call("playlists", "getPlaylist", {
          token,
          pathParameters: { playlistId },
        })
      ).body.plays,
    ).toBe(4);
    expect((await call("getPlays", "getTotalPlays", { token })).body).toEqual({ plays: 4 });
  }, 30_000);

  it("keeps the play total equal to the remaining playlists' plays when account deletion fails part way, and a retry finishes it", async () => {
    const sub = uniqueUser();
    const token = await tokenFor(sub);
    const ids: string[] = [];
    for (let i = 0; i < 150; i++) {
      ids.push(await newPlaylist(token, `P${i}`));
    }
    for (const id of ids.filter((_, i) => i % 3 === 0)) {
      await play(token, id);
    }
    const path = { pathParameters: { userId: sub }, rawPath: `/users/${encodeURIComponent(sub)}` };
    const response = await whileFaulty(
      // The caller's rate limit and unit budget, the deletion marker's read, the mark, the songs query, the
      // read of the featured playlists the user created as an editor, the playlists query, the
      // first batch's plays and its transaction; then the crash.
      () => proxy.failAfter(9),
      () => call("users", "deleteUser", { token, ...path }),
    );
    expectUnavailable(response);
    const remaining: { plays: number }[] = [];
    let cursor: string | undefined;
    do {
      const page = await call("playlists", "listPlaylists", {
        token,
        query: { limit: "100", ...(cursor ? { cursor } : {}) },
      });
      remaining.push(...page.body.playlists);
      cursor = page.body.nextCursor ?? undefined;
    } while (cursor);
    expect(remaining.length).toBeGreaterThan(0);
    expect(remaining.length).toBeLessThan(150);
    const total = (await call("getPlays", "getTotalPlays", { token })).body.plays;
    expect(total).toBe(remaining.reduce((sum, p) => sum + p.plays, 0));

    expect((await call("users", "deleteUser", { token, ...path })).statusCode).toBe(204);
    // The deletion cut the old token off (tests/e2e/auth0-in-step.test.ts): a login after it
    // starts a fresh, empty account.
    await pastTokenCutOff();
    const fresh = await tokenFor(sub);
    expect((await call("playlists", "listPlaylists", { token: fresh })).body.playlists).toEqual([]);
    expect((await call("getPlays", "getTotalPlays", { token: fresh })).body).toEqual({ plays: 0 });
  }, 60_000);

  it("retries a play that DynamoDB cancels for a transaction conflict, counting it once", async () => {
    const token = await tokenFor(uniqueUser());
    const playlistId = await newPlaylist(token);
    const played = await whileFaulty(
      () => proxy.conflictFor(3),
      () => play(token, playlistId),
    );
    expect(played.statusCode).toBe(200);
    expect(played.body.plays).toBe(1);
    expect((await call("getPlays", "getTotalPlays", { token })).body).toEqual({ plays: 1 });
  }, 30_000);

  it("answers 503 when the conflicts do not end, and counts nothing", async () => {
    const token = await tokenFor(uniqueUser());
    const playlistId = await newPlaylist(token);
    const played = await whileFaulty(
      () => proxy.conflictFor(1_000),
      () => play(token, playlistId),
    );
    expectUnavailable(played);
    expect((await call("getPlays", "getTotalPlays", { token })).body).toEqual({ plays: 0 });
  }, 30_000);
});
