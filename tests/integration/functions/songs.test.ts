import { describe, expect, it } from "vitest";
import { handler as playlistsHandler } from "../../../functions/playlists.ts";
import { handler } from "../../../functions/songs.ts";
import { getUserCounters } from "../../../lib/db/counters/user.ts";
import { removeSongs } from "../../../lib/db/playlist-songs.ts";
import {
  deletePlaylist,
  getPlaylist,
  newPlaylist,
  putPlaylist,
  updatePlaylist,
} from "../../../lib/db/playlists.ts";
import { deleteSong } from "../../../lib/db/songs.ts";
import { checkSongIds, deleteSongEverywhere, settleSongIds } from "../../../lib/domain/songs.ts";
import { dynamoCallsOf } from "../../helpers/calls.ts";
import { httpEvent, invoke } from "../../helpers/invoke.ts";
import { storeSongs } from "../../helpers/tables.ts";
import { tokenFor, uniqueUser } from "../../helpers/tokens.ts";

async function user() {
  return tokenFor(uniqueUser());
}
/** POST /songs; the fixture's Idempotency-Key is dropped unless the test sends one. */
const create = (token: string, body: unknown, headers: Record<string, string> = {}) =>
  invoke(
    handler,
    httpEvent("createSong", { token, body, headers: { "idempotency-key": null, ...headers } }),
  );
const createSong = (token: string, songName = "Number One Hit") =>
  create(token, { songName, genre: "pop" });
const byId = (name: "getSong" | "deleteSong", token: string, songId: string) =>
  invoke(
    handler,
    httpEvent(name, { token, pathParameters: { songId }, rawPath: `/songs/${songId}` }),
  );
const list = (token: string, query: Record<string, string> = {}) =>
  invoke(handler, httpEvent("listSongs", { token, query }));

describe("songs", () => {
  it("creates a song with a server-made id and reads it back", async () => {
    const token = await user();
    const response = await create(token, { songName: " Number One Hit ", genre: "pop" });
    expect(response.statusCode).toBe(201);
    expect(response.body).toEqual({
      songId: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/),
      songName: "Number One Hit",
      genre: "pop",
      createdAt: expect.any(String),
    });
    expect((await byId("getSong", token, response.body.songId)).body).toEqual(response.body);
  });

  it("ignores a client-sent songId: ids are made by the server", async () => {
    const response = await create(await user(), { songName: "x", genre: "y", songId: "mine" });
    expect(response.statusCode).toBe(400);
    expect(response.body.message).toContain("Unknown field: songId");
  });

  it("answers a retried Idempotency-Key with the first song and creates nothing more", async () => {
    const token = await user();
    const key = crypto.randomUUID();
    const first = await create(
      token,
      { songName: "Once", genre: "rock" },
      { "idempotency-key": key },
    );
    const retry = await create(
      token,
      { songName: "Once", genre: "rock" },
      { "idempotency-key": key },
    );
    expect(first.statusCode).toBe(201);
    expect(retry.statusCode).toBe(201);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers["idempotent-replayed"]).toBe("true");
    expect((await list(token)).body.songs).toHaveLength(1);
  });

  it("keeps Idempotency-Keys per caller: the same key from two users makes two songs", async () => {
    const key = crypto.randomUUID();
    const a = await create(await user(), { songName: "A", genre: "g" }, { "idempotency-key": key });
    const b = await create(await user(), { songName: "B", genre: "g" }, { "idempotency-key": key });
    expect(a.body.songName).toBe("A");
    expect(b.body.songName).toBe("B");
  });

  it.each([
    [{ songName: "", genre: "pop" }, "songName must not be empty"],
    [{ songName: "x".repeat(201), genre: "pop" }, "songName must be at most 200 characters"],
    [{ songName: "ok", genre: "x".repeat(65) }, "genre must be at most 64 characters"],
    [{ songName: "ok" }, "genre"],
    [{ songName: "bad\nname", genre: "pop" }, "control characters"],
  ])("refuses %j with a 400 and stores nothing", async (body, message) => {
    const token = await user();
    const response = await create(token, body);
    expect(response.statusCode).toBe(400);
    expect(response.body.message).toContain(message);
    expect((await list(token)).body.songs).toEqual([]);
  });

  it("accepts the limits exactly: 200-character name, 64-character genre", async () => {
    const response = await create(await user(), {
      songName: "n".repeat(200),
      genre: "g".repeat(64),
    });
    expect(response.statusCode).toBe(201);
  });

  it("refuses an Idempotency-Key that is not visible ASCII", async () => {
    const response = await create(
      await user(),
      { songName: "a", genre: "b" },
      { "idempotency-key": "key with spaces" },
    );
    expect(response.statusCode).toBe(400);
    expect(response.body.errorCode).toBe("invalid_idempotency_key");
  });

  it("deletes a song: 204, then 404", async () => {
    const token = await user();
    const { body: song } = await createSong(token);
    expect((await byId("deleteSong", token, song.songId)).statusCode).toBe(204);
    expect((await byId("getSong", token, song.songId)).statusCode).toBe(404);
    expect((await byId("deleteSong", token, song.songId)).statusCode).toBe(404);
  });

  describe("isolation between users", () => {
    it("answers another user's song with 404 for GET and DELETE, and leaves it in place", async () => {
      const owner = await user();
      const intruder = await user();
      const { body: song } = await createSong(owner, "Private demo");
      const read = await byId("getSong", intruder, song.songId);
      expect(read.statusCode).toBe(404);
      expect(JSON.stringify(read.body)).not.toContain("Private demo");
      expect((await byId("deleteSong", intruder, song.songId)).statusCode).toBe(404);
      expect((await byId("getSong", owner, song.songId)).body).toEqual(song);
      expect((await list(intruder)).body.songs).toEqual([]);
    });
    it("answers an id this API never issued with 404", async () => {
      expect((await byId("getSong", await user(), "../../etc")).statusCode).toBe(404);
    });
  });

  describe("pagination", () => {
    it("walks 27 songs in pages of 10 with opaque cursors, each song once", async () => {
      const token = await user();
      const created = new Set<string>();
      for (let i = 0; i < 27; i++) created.add((await createSong(token, `Song ${i}`)).body.songId);
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await list(token, { limit: "10", ...(cursor ? { cursor } : {}) });
        expect(page.statusCode).toBe(200);
        expect(page.body.songs.length).toBeLessThanOrEqual(10);
        seen.push(...page.body.songs.map((s: { songId: string }) => s.songId));
        cursor = page.body.nextCursor ?? undefined;
        pages++;
      } while (cursor);
      expect(pages).toBeGreaterThanOrEqual(3);
      expect(seen).toHaveLength(27);
      expect(new Set(seen)).toEqual(created);
    });

    it("defaults to 50 per page", async () => {
      const token = await user();
      for (let i = 0; i < 3; i++) await createSong(token);
      const page = await list(token);
      expect(page.body.songs).toHaveLength(3);
    });

    it.each(["0", "101", "-1", "ten", "abc", "1.5"])(
      "refuses limit=%s with 400 invalid_query, the problem named once",
      async (limit) => {
        const response = await list(await user(), { limit });
        expect(response.statusCode).toBe(400);
        expect(response.body.errorCode).toBe("invalid_query");
        expect(response.body.message).toBe("limit must be an integer from 1 to 100");
      },
    );

    it("refuses a cursor from another user, an altered one and junk with 400, never data", async () => {
      const alice = await user();
      const bob = await user();
      for (let i = 0; i < 3; i++) await createSong(alice, `Alice ${i}`);
      const { body } = await list(alice, { limit: "1" });
      expect(body.nextCursor).toEqual(expect.any(String));
      const altered = `${body.nextCursor.slice(0, -2)}${body.nextCursor.endsWith("A") ? "B" : "A"}${body.nextCursor.at(-1)}`;
      for (const cursor of [body.nextCursor, altered, "not-a-cursor", "e30.e30"]) {
        // Bob replays Alice's genuine cursor; Alice sends the forged ones.
        const response = await list(cursor === body.nextCursor ? bob : alice, { cursor });
        expect(response.statusCode).toBe(400);
        expect(response.body.errorCode).toBe("invalid_cursor");
        expect(JSON.stringify(response.body)).not.toContain("Alice");
      }
    });
  });

  it("makes one DynamoDB round trip per read or write", async () => {
    const token = await user();
    const { body: song } = await createSong(token);
    // The song and the quota count in one transaction.
    expect(await dynamoCallsOf(() => createSong(token))).toEqual(["TransactWriteItemsCommand"]);
    expect(await dynamoCallsOf(() => byId("getSong", token, song.songId))).toEqual([
      "GetItemCommand",
    ]);
    expect(await dynamoCallsOf(() => list(token))).toEqual(["QueryCommand"]);
    // The song and the quota, then the search of the caller's playlists and of the featured
    // ones they created (none: one GetItem of their ids), then the mark goes.
    expect(await dynamoCallsOf(() => byId("deleteSong", token, song.songId))).toEqual([
      "TransactWriteItemsCommand",
      "QueryCommand",
      "GetItemCommand",
      "UpdateItemCommand",
    ]);
    // No such song: the transaction, and a look for an interrupted deletion of it.
    expect(await dynamoCallsOf(() => byId("deleteSong", token, song.songId))).toEqual([
      "TransactWriteItemsCommand",
      "GetItemCommand",
    ]);
  });
});

describe("a deleted song leaves the owner's playlists", () => {
  const playlist = (token: string, name: string, songIds: string[]) =>
    invoke(
      playlistsHandler,
      httpEvent("createPlaylist", {
        token,
        body: { name, songIds },
        headers: { "idempotency-key": null },
      }),
    ).then((response) => response.body);
  const read = async (token: string, playlistId: string) =>
    (
      await invoke(
        playlistsHandler,
        httpEvent("getPlaylist", { token, pathParameters: { playlistId } }),
      )
    ).body;
  const songIdsOf = async (token: string) =>
    Promise.all([0, 1, 2].map(async (i) => (await createSong(token, `S${i}`)).body.songId));

  it("at once: every playlist that lists it loses it, the rest keep their order, others are untouched", async () => {
    const token = await user();
    const [a, b, c] = await songIdsOf(token);
    const all = await playlist(token, "all", [a, b, c]);
    const onlyB = await playlist(token, "only b", [b]);
    const withoutB = await playlist(token, "no b", [c, a]);
    const other = await user();
    const [x] = await songIdsOf(other);
    const theirs = await playlist(other, "theirs", [x]);

    expect((await byId("deleteSong", token, b)).statusCode).toBe(204);
    const after = await read(token, all.playlistId);
    expect(after.songIds).toEqual([a, c]);
    expect(after.updatedAt >= all.updatedAt).toBe(true);
    expect((await read(token, onlyB.playlistId)).songIds).toEqual([]);
    expect(await read(token, withoutB.playlistId)).toEqual(withoutB);
    expect(await read(other, theirs.playlistId)).toEqual(theirs);
    // Another user deleting the same id deletes nothing and changes nothing of theirs.
    expect((await byId("deleteSong", other, a)).statusCode).toBe(404);
    expect((await read(token, all.playlistId)).songIds).toEqual([a, c]);
  });

  it("finishes an interrupted deletion at the next DELETE of the song", async () => {
    const sub = uniqueUser();
    const token = await tokenFor(sub);
    const [a, b] = await songIdsOf(token);
    const both = await playlist(token, "both", [a, b]);
    // What a function that died right after the song's transaction leaves behind.
    expect(await deleteSong(sub, a)).toBe(true);
    expect((await read(token, both.playlistId)).songIds).toEqual([a, b]);
    expect((await byId("deleteSong", token, a)).statusCode).toBe(204);
    expect((await read(token, both.playlistId)).songIds).toEqual([b]);
    expect((await getUserCounters(sub, true)).removingSongs).toEqual([]);
    expect((await byId("deleteSong", token, a)).statusCode).toBe(404);
  });

  it("even when it races a playlist write: the writer takes out a song deleted since its check", async () => {
    const sub = uniqueUser();
    const [a, b] = await storeSongs(sub, 2);
    const songIds = [a, b] as string[];
    const checked = await checkSongIds(sub, songIds);
    // The deletion runs between the check and the write: its search cannot see the playlist.
    expect(await deleteSongEverywhere(sub, a as string)).toBe(true);
    const racing = newPlaylist({ name: "raced", songIds }, false);
    expect(await putPlaylist(sub, racing, 1000)).toBeUndefined();
    await settleSongIds(sub, checked, { ...racing, songIds });
    expect((await getPlaylist(sub, racing.playlistId, true))?.songIds).toEqual([b]);
  });

  it("takes a song out of a playlist changed since it was read: the write answers the current list", async () => {
    const sub = uniqueUser();
    const [a, b, c] = (await storeSongs(sub, 3)) as [string, string, string];
    const stored = newPlaylist({ name: "changing", songIds: [a, b] }, false);
    await putPlaylist(sub, stored, 1000);
    // The search saw [a, b]; a PATCH made it [c, a, b] since.
    await updatePlaylist(sub, stored.playlistId, { songIds: [c, a, b] });
    await removeSongs(sub, stored.playlistId, new Set([a]), [a, b]);
    expect((await getPlaylist(sub, stored.playlistId, true))?.songIds).toEqual([c, b]);
    // A playlist deleted meanwhile stays deleted.
    await deletePlaylist(sub, stored.playlistId);
    await removeSongs(sub, stored.playlistId, new Set([b]), [c, b]);
    expect(await getPlaylist(sub, stored.playlistId, true)).toBeUndefined();
  });
});
