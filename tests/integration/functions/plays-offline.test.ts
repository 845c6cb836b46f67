/**
 * Plays made without a network and sent later with their play time (CONTRACT: Plays), with the
 * default 30 s cooldown: counted by play time whatever order they arrive in, two counted plays
 * of a user always at least the cooldown apart, and never faster than playing online.
 */
import "./plays-offline-env.ts";
import { QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { handler as getPlaysHandler } from "../../../functions/getPlays.ts";
import { handler } from "../../../functions/playlists.ts";
import { handler as postLoginHandler } from "../../../functions/postLogin.ts";
import { db } from "../../../lib/db/client.ts";
import { COUNTERS_TABLE } from "../../../lib/db/counters/table.ts";
import { addPlay, PLAYLISTS_TABLE } from "../../../lib/db/playlists.ts";
import { httpEvent, invoke } from "../../helpers/invoke.ts";
import { machineTokenFor, tokenFor, uniqueUser } from "../../helpers/tokens.ts";

const COOLDOWN = 30_000;

/** A user with one playlist created `ageMs` ago (as one created then would be stored). */
async function playlistOf(ageMs: number) {
  const sub = uniqueUser();
  const token = await tokenFor(sub);
  const created = await invoke(
    handler,
    httpEvent("createPlaylist", {
      token,
      body: { name: "Flight" },
      headers: { "idempotency-key": null },
    }),
  );
  const { playlistId } = created.body as { playlistId: string };
  const createdAt = Date.now() - ageMs;
  await db.send(
    new UpdateCommand({
      TableName: PLAYLISTS_TABLE,
      Key: { user_id: sub, playlist_id: playlistId },
      UpdateExpression: "SET created_at = :at",
      ExpressionAttributeValues: { ":at": new Date(createdAt).toISOString() },
    }),
  );
  return { sub, token, playlistId, createdAt };
}

const play = (token: string, playlistId: string, playedAt?: number, key?: string) =>
  invoke(
    handler,
    httpEvent("playPlaylist", {
      token,
      pathParameters: { playlistId },
      rawPath: `/playlists/${playlistId}/plays`,
      ...(playedAt === undefined ? {} : { body: { playedAt: new Date(playedAt).toISOString() } }),
      headers: { "idempotency-key": key ?? null, "content-type": "application/json" },
    }),
  );
const totalPlays = async (token: string) =>
  (await invoke(getPlaysHandler, httpEvent("getTotalPlays", { token }))).body.plays as number;

describe("plays sent late with their play time", () => {
  it("counts ten plays spaced exactly the cooldown, sent in reverse order", async () => {
    const { token, playlistId, createdAt } = await playlistOf(10 * COOLDOWN);
    const times = Array.from({ length: 10 }, (_, i) => createdAt + i * COOLDOWN);
    for (const at of times.reverse()) {
      const response = await play(token, playlistId, at);
      expect(response.statusCode).toBe(200);
    }
    expect(await totalPlays(token)).toBe(10);
    const { body } = await invoke(
      handler,
      httpEvent("getPlaylist", { token, pathParameters: { playlistId } }),
    );
    expect(body.plays).toBe(10);
  });

  it("refuses a play closer than the cooldown to a counted one, in either order, with Retry-After", async () => {
    const { token, playlistId, createdAt } = await playlistOf(6 * COOLDOWN);
    const base = createdAt + 2 * COOLDOWN;
    expect((await play(token, playlistId, base)).statusCode).toBe(200);
    for (const at of [base + COOLDOWN - 1, base - COOLDOWN + 1, base + 1]) {
      const refused = await play(token, playlistId, at);
      expect(refused.statusCode).toBe(429);
      expect(refused.body.errorCode).toBe("play_too_soon");
      expect(Number(refused.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    }
    // Exactly the cooldown away on both sides is far enough.
    expect((await play(token, playlistId, base + COOLDOWN)).statusCode).toBe(200);
    expect((await play(token, playlistId, base - COOLDOWN)).statusCode).toBe(200);
    expect(await totalPlays(token)).toBe(3);
  });

  it("counts one of two plays closer than the cooldown sent at once from two devices", async () => {
    const { token, playlistId, createdAt } = await playlistOf(60 * COOLDOWN);
    // Pairs that fall in one slot, in neighbouring slots, either way round.
    const pairs = [
      [5, 5.5],
      [10.9, 11.2],
      [21.2, 20.9],
      [30, 30.99],
      [40.5, 39.6],
    ].map(([a, b]) => [createdAt + (a ?? 0) * COOLDOWN, createdAt + (b ?? 0) * COOLDOWN]);
    for (const pair of pairs) {
      const responses = await Promise.all(pair.map((at) => play(token, playlistId, at)));
      expect(responses.map((r) => r.statusCode).sort()).toEqual([200, 429]);
    }
    expect(await totalPlays(token)).toBe(pairs.length);
  });

  it("keeps every two counted plays a cooldown apart under a burst of random play times", async () => {
    const { sub, token, playlistId, createdAt } = await playlistOf(20 * COOLDOWN);
    const times = Array.from({ length: 40 }, () => createdAt + Math.random() * 20 * COOLDOWN);
    const responses = await Promise.all(times.map((at) => play(token, playlistId, at)));
    const counted = times.filter((_, i) => responses[i]?.statusCode === 200).sort((a, b) => a - b);
    expect(responses.every((r) => r.statusCode === 200 || r.statusCode === 429)).toBe(true);
    for (let i = 1; i < counted.length; i++) {
      expect((counted[i] ?? 0) - (counted[i - 1] ?? 0)).toBeGreaterThanOrEqual(COOLDOWN);
    }
    expect(await totalPlays(token)).toBe(counted.length);
    // The stored slots say the same.
    const { Items } = await db.send(
      new QueryCommand({
        TableName: COUNTERS_TABLE,
        KeyConditionExpression: "user_id = :u AND begins_with(counter_id, :p)",
        ExpressionAttributeValues: { ":u": sub, ":p": "play#" },
      }),
    );
    expect(Items?.map((item) => item.played_at).sort((a, b) => a - b)).toEqual(
      counted.map((at) => new Date(new Date(at).toISOString()).getTime()),
    );
  });

  const DAY = 24 * 3600_000;
  it.each([
    ["in the future beyond a minute of skew", 8 * DAY, (now: number) => now + 61_000],
    ["more than 7 days ago", 8 * DAY, (now: number) => now - 7 * DAY - 1_000],
    ["before the playlist was created", DAY, (_now: number, created: number) => created - 1_000],
  ])(
    "refuses a playedAt %s with 400 invalid_played_at, counting nothing",
    async (_case, age, when) => {
      const { token, playlistId, createdAt } = await playlistOf(age);
      const refused = await play(token, playlistId, when(Date.now(), createdAt));
      expect(refused.statusCode).toBe(400);
      expect(refused.body.errorCode).toBe("invalid_played_at");
      expect(await totalPlays(token)).toBe(0);
      // Nothing of it holds a later play back.
      expect((await play(token, playlistId)).statusCode).toBe(200);
    },
  );

  it("refuses a playedAt that is not an ISO 8601 time with 400", async () => {
    const { token, playlistId } = await playlistOf(COOLDOWN);
    const response = await invoke(
      handler,
      httpEvent("playPlaylist", {
        token,
        pathParameters: { playlistId },
        body: { playedAt: "yesterday" },
        headers: { "idempotency-key": null, "content-type": "application/json" },
      }),
    );
    expect(response.statusCode).toBe(400);
    expect(await totalPlays(token)).toBe(0);
  });

  it("replays a keyed play with the same playedAt and refuses the key with another (422)", async () => {
    const { token, playlistId, createdAt } = await playlistOf(4 * COOLDOWN);
    const first = await play(token, playlistId, createdAt + COOLDOWN, "flight-1");
    expect(first.statusCode).toBe(200);
    const again = await play(token, playlistId, createdAt + COOLDOWN, "flight-1");
    expect(again.statusCode).toBe(200);
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect((await play(token, playlistId, createdAt + 3 * COOLDOWN, "flight-1")).statusCode).toBe(
      422,
    );
    expect(await totalPlays(token)).toBe(1);
  });

  it("never reaches the editor role sooner than playing online could: a time ahead counts as now", async () => {
    // Created 45 s ago: online, two plays could have counted by now (at 0 s and 30 s).
    const { sub, token, playlistId, createdAt } = await playlistOf(45_000);
    const statuses = [];
    for (const offset of [0, 30_000, 60_000, 90_000]) {
      // The last two are up to 45 s ahead of now: within the minute of skew, so not refused.
      statuses.push((await play(token, playlistId, createdAt + offset)).statusCode);
    }
    expect(statuses).toEqual([200, 200, 429, 429]);
    const counted = await totalPlays(token);
    expect(counted).toBeLessThanOrEqual(1 + Math.floor((Date.now() - createdAt) / COOLDOWN));
    const login = await invoke(
      postLoginHandler,
      httpEvent("runPostLogin", {
        token: await machineTokenFor("post-login-action", "run:post_login"),
        body: { user: { user_id: sub } },
      }),
    );
    expect(login.statusCode).toBe(200);
    expect(login.body.claims["https://music.example.com/roles"]).toEqual([]);
  });

  it("keeps no slot items without a cooldown", async () => {
    const { sub, playlistId } = await playlistOf(COOLDOWN);
    expect(await addPlay(sub, playlistId, 0, Date.now())).toBeUndefined();
    expect(await addPlay(sub, playlistId, 0, Date.now())).toBeUndefined();
    const { Count } = await db.send(
      new QueryCommand({
        TableName: COUNTERS_TABLE,
        KeyConditionExpression: "user_id = :u AND begins_with(counter_id, :p)",
        ExpressionAttributeValues: { ":u": sub, ":p": "play#" },
      }),
    );
    expect(Count).toBe(0);
  });
});
