import { TransactWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { handler } from "../../../functions/playlists.ts";
import { handler as songsHandler } from "../../../functions/songs.ts";
import { db } from "../../../lib/db/client.ts";
import { IDEMPOTENCY_TABLE } from "../../../lib/db/idempotency.ts";
import { keyedRequest, recordOf } from "../../../lib/http/idempotency.ts";
import { dynamoCallsOf } from "../../helpers/calls.ts";
import { httpEvent, invoke } from "../../helpers/invoke.ts";
import {
  create,
  createPlaylist,
  list,
  newSong,
  newSongs,
  play,
  totalPlays,
  user,
  withId,
} from "../../helpers/playlists.ts";
import { storeSongs } from "../../helpers/tables.ts";
import { tokenFor, uniqueUser } from "../../helpers/tokens.ts";

describe("playlists", () => {
  it("creates, reads, renames and deletes a playlist", async () => {
    const token = await user();
    const songId = await newSong(token);
    const created = await create(token, { name: "Road trip", songIds: [songId] });
    expect(created.statusCode).toBe(201);
    expect(created.body).toEqual({
      playlistId: expect.stringMatching(/^[0-9A-Z]{26}$/),
      name: "Road trip",
      songIds: [songId],
      plays: 0,
      featured: false,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const id = created.body.playlistId;
    expect((await withId("getPlaylist", token, id)).body).toEqual(created.body);
    const renamed = await withId("updatePlaylist", token, id, { name: "Road trip 2026" });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.body).toMatchObject({ name: "Road trip 2026", songIds: [songId] });
    expect((await withId("deletePlaylist", token, id)).statusCode).toBe(204);
    expect((await withId("getPlaylist", token, id)).statusCode).toBe(404);
  });

  it("changes only the songs, keeping the name", async () => {
    const token = await user();
    const { playlistId } = await createPlaylist(token, "Keep this name");
    const songIds = await newSongs(token, 2);
    const response = await withId("updatePlaylist", token, playlistId, { songIds });
    expect(response.statusCode).toBe(200);
    expect(response.body).toMatchObject({ name: "Keep this name", songIds });
  });

  it("defaults songIds to an empty list", async () => {
    expect((await create(await user(), { name: "Empty" })).body.songIds).toEqual([]);
  });

  it("answers 409 idempotency_key_in_use while a keyed play runs, and finishes one abandoned", async () => {
    const sub = uniqueUser();
    const token = await tokenFor(sub);
    const { playlistId } = await createPlaylist(token);
    const event = httpEvent("playPlaylist", {
      token,
      pathParameters: { playlistId },
      rawPath: `/playlists/${playlistId}/plays`,
      headers: { "idempotency-key": "busy-key" },
    });
    const caller = { sub, machine: false, permissions: new Set<string>(), issuedAt: 0 };
    const keyed = keyedRequest({ event, caller, body: undefined, correlationId: "t" });
    if (!keyed) throw new Error("the event carries a key");
    // What a first request leaves while it runs: its record, counted, without a response yet.
    await db.send(new TransactWriteCommand({ TransactItems: Object.values(recordOf(keyed)) }));
    const busy = await invoke(handler, event);
    expect(busy.statusCode).toBe(409);
    expect(busy.body.errorCode).toBe("idempotency_key_in_use");
    expect(busy.headers["retry-after"]).toBe("1");
    expect(await totalPlays(token)).toBe(0);
    // A first request that died before storing its response: the retry answers for it.
    await db.send(
      new UpdateCommand({
        TableName: IDEMPOTENCY_TABLE,
        Key: { record_id: keyed.recordId },
        UpdateExpression: "SET started_at = :old",
        ExpressionAttributeValues: { ":old": Date.now() - 60_000 },
      }),
    );
    const recovered = await invoke(handler, event);
    expect(recovered.statusCode).toBe(200);
    expect(recovered.headers["idempotent-replayed"]).toBe("true");
    expect(recovered.body.playlistId).toBe(playlistId);
    expect(await totalPlays(token)).toBe(0);
  });

  it("answers a retried Idempotency-Key with the first playlist, creating one only", async () => {
    const token = await user();
    const key = crypto.randomUUID();
    const first = await create(token, { name: "Once" }, { "idempotency-key": key });
    const retry = await create(token, { name: "Once" }, { "idempotency-key": key });
    expect(retry.body).toEqual(first.body);
    expect((await list(token)).body.playlists).toHaveLength(1);
  });

  it.each([
    ["an empty name", { name: "" }, "name must not be empty"],
    ["a 101-character name", { name: "x".repeat(101) }, "name must be at most 100 characters"],
    [
      "501 song ids",
      { name: "ok", songIds: Array.from({ length: 501 }, (_, i) => `s${i}`) },
      "songIds must hold at most 500 ids",
    ],
    ["numbers as song ids", { name: "ok", songIds: [1, 2] }, "songIds must hold strings"],
    ["songIds as a string", { name: "ok", songIds: "01JD" }, "songIds must be an array of strings"],
    ["a client-set play count", { name: "ok", plays: 1000 }, "Unknown field: plays"],
    ["a client-set featured flag", { name: "ok", featured: true }, "Unknown field: featured"],
  ])("refuses %s with a 400 and stores nothing", async (_case, body, message) => {
    const token = await user();
    const response = await create(token, body);
    expect(response.statusCode).toBe(400);
    expect(response.body.message).toContain(message);
    expect((await list(token)).body.playlists).toEqual([]);
  });

  it("accepts the limits exactly: a 100-character name and 500 song ids", async () => {
    const sub = uniqueUser();
    const songIds = await storeSongs(sub, 500);
    const response = await create(await tokenFor(sub), { name: "n".repeat(100), songIds });
    expect(response.statusCode).toBe(201);
    expect(response.body.songIds).toEqual(songIds);
  });

  it("refuses an empty PATCH and one that sets plays", async () => {
    const token = await user();
    const { playlistId } = await createPlaylist(token);
    const empty = await withId("updatePlaylist", token, playlistId, {});
    expect(empty.statusCode).toBe(400);
    expect(empty.body.message).toContain("Send name, songIds, addSongIds or removeSongIds");
    const cheat = await withId("updatePlaylist", token, playlistId, { plays: 1000 });
    expect(cheat.statusCode).toBe(400);
    expect((await withId("getPlaylist", token, playlistId)).body.plays).toBe(0);
  });

  describe("isolation between users: another user's playlist is 404 and unchanged, for every verb", async () => {
    const owner = await user();
    const intruder = await user();
    const { playlistId } = await createPlaylist(owner, "Owner's secret mix");
    it.each([
      ["GET", "getPlaylist", undefined],
      ["PATCH", "updatePlaylist", { name: "pwned" }],
      ["DELETE", "deletePlaylist", undefined],
      ["POST plays", "playPlaylist", undefined],
    ])("%s", async (_verb, fixture, body) => {
      const response = await withId(fixture, intruder, playlistId, body);
      expect(response.statusCode).toBe(404);
      expect(JSON.stringify(response.body)).not.toContain("secret mix");
      const stored = await withId("getPlaylist", owner, playlistId);
      expect(stored.body).toMatchObject({ name: "Owner's secret mix", plays: 0 });
      expect(await totalPlays(intruder)).toBe(0);
    });
  });

  describe("plays", () => {
    it("adds exactly one play per request, and the user's total with it", async () => {
      const token = await user();
      const { playlistId } = await createPlaylist(token);
      const first = await play(token, playlistId);
      expect(first.statusCode).toBe(200);
      expect(first.body).toMatchObject({ playlistId, plays: 1 });
      expect((await play(token, playlistId)).body.plays).toBe(2);
      expect(await totalPlays(token)).toBe(2);
    });

    it("counts 100 concurrent plays exactly, on the playlist and in the total", async () => {
      const token = await user();
      const a = (await createPlaylist(token, "A")).playlistId;
      const b = (await createPlaylist(token, "B")).playlistId;
      const responses = await Promise.all(
        Array.from({ length: 100 }, (_, i) => play(token, i % 2 === 0 ? a : b)),
      );
      expect(
        responses.map((r) => r.statusCode),
        JSON.stringify(responses.find((r) => r.statusCode !== 200)?.body),
      ).toEqual(Array(100).fill(200));
      expect((await withId("getPlaylist", token, a)).body.plays).toBe(50);
      expect((await withId("getPlaylist", token, b)).body.plays).toBe(50);
      expect(await totalPlays(token)).toBe(100);
    });

    it("lowers the total by a deleted playlist's plays", async () => {
      const token = await user();
      const keep = (await createPlaylist(token, "keep")).playlistId;
      const drop = (await createPlaylist(token, "drop")).playlistId;
      for (let i = 0; i < 3; i++) await play(token, keep);
      for (let i = 0; i < 5; i++) await play(token, drop);
      expect(await totalPlays(token)).toBe(8);
      expect((await withId("deletePlaylist", token, drop)).statusCode).toBe(204);
      expect(await totalPlays(token)).toBe(3);
      expect((await withId("deletePlaylist", token, keep)).statusCode).toBe(204);
      expect(await totalPlays(token)).toBe(0);
    });

    it("keeps the total right when plays race a delete", async () => {
      const token = await user();
      const keep = (await createPlaylist(token, "keep")).playlistId;
      const drop = (await createPlaylist(token, "drop")).playlistId;
      await Promise.all([
        ...Array.from({ length: 20 }, () => play(token, keep)),
        ...Array.from({ length: 20 }, () => play(token, drop)),
        withId("deletePlaylist", token, drop),
      ]);
      expect(await totalPlays(token)).toBe(20);
    });

    it("costs one transaction and one batch read; getPlays one read", async () => {
      const token = await user();
      const { playlistId } = await createPlaylist(token);
      expect(await dynamoCallsOf(() => play(token, playlistId))).toEqual([
        "TransactWriteItemsCommand",
        "BatchGetItemCommand",
      ]);
      expect(await dynamoCallsOf(() => totalPlays(token))).toEqual(["GetItemCommand"]);
    });
  });

  it("makes one DynamoDB round trip per read or write; a list and a rename two", async () => {
    const token = await user();
    const { playlistId } = await createPlaylist(token);
    // The playlist, its play counter and the quota in one transaction.
    expect(await dynamoCallsOf(() => createPlaylist(token))).toEqual(["TransactWriteItemsCommand"]);
    // The playlist and its counter in one batch.
    expect(await dynamoCallsOf(() => withId("getPlaylist", token, playlistId))).toEqual([
      "BatchGetItemCommand",
    ]);
    // The update and the read of the counter run side by side.
    expect(
      (
        await dynamoCallsOf(() => withId("updatePlaylist", token, playlistId, { name: "n" }))
      ).sort(),
    ).toEqual(["GetItemCommand", "UpdateItemCommand"]);
    expect(await dynamoCallsOf(() => list(token))).toEqual(["QueryCommand", "BatchGetItemCommand"]);
  });

  it("pages through 26 playlists; a cursor of the songs list is refused here", async () => {
    const token = await user();
    for (let i = 0; i < 26; i++) await createPlaylist(token, `P${i}`);
    const ids = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await list(token, { limit: "7", ...(cursor ? { cursor } : {}) });
      for (const p of page.body.playlists) ids.add(p.playlistId);
      cursor = page.body.nextCursor ?? undefined;
    } while (cursor);
    expect(ids.size).toBe(26);

    // The same caller's cursor from another list does not open this one.
    for (let i = 0; i < 2; i++) {
      await invoke(
        songsHandler,
        httpEvent("createSong", {
          token,
          body: { songName: `S${i}`, genre: "g" },
          headers: { "idempotency-key": null },
        }),
      );
    }
    const songsPage = await invoke(
      songsHandler,
      httpEvent("listSongs", { token, query: { limit: "1" } }),
    );
    const refused = await list(token, { cursor: songsPage.body.nextCursor });
    expect(refused.statusCode).toBe(400);
    expect(refused.body.errorCode).toBe("invalid_cursor");
  });
});

describe("songIds name the caller's songs", () => {
  const patch = (token: string, playlistId: string, body: unknown) =>
    withId("updatePlaylist", token, playlistId, body);

  it("refuses an id that is no song of the caller with 400 unknown_song, naming it, and stores nothing", async () => {
    const token = await user();
    const mine = await newSong(token);
    const theirs = await newSong(await user());
    for (const unknown of [theirs, "01JD0000000000000000000XXX", "a"]) {
      const response = await create(token, { name: "Mixed", songIds: [mine, unknown] });
      expect(response.statusCode).toBe(400);
      expect(response.body).toMatchObject({ statusCode: 400, errorCode: "unknown_song" });
      expect(response.body.message).toBe(
        `songIds[1]: ${JSON.stringify(unknown)} is not one of your songs: add it with POST /songs first, or leave it out`,
      );
    }
    const several = await create(token, { name: "x", songIds: ["b", mine, "c", "d"] });
    expect(several.body.message).toMatch(/^songIds\[0\]: "b" is not one of your songs \(3 of/);
    expect((await list(token)).body.playlists).toEqual([]);
  });

  it("refuses the same id twice with 400, even a real song, and stores nothing", async () => {
    const token = await user();
    const song = await newSong(token);
    for (const songIds of [
      ["a", "a", "a"],
      [song, song],
    ]) {
      const response = await create(token, { name: "Again", songIds });
      expect(response.statusCode).toBe(400);
      expect(response.body.errorCode).toBe("invalid_body");
      expect(response.body.message).toContain(
        `songIds lists ${JSON.stringify(songIds[0])} more than once`,
      );
    }
    expect((await list(token)).body.playlists).toEqual([]);
  });

  it("refuses a PATCH to unknown or repeated songs, changing nothing", async () => {
    const token = await user();
    const song = await newSong(token);
    const { body: playlist } = await create(token, { name: "Keep", songIds: [song] });
    const theirs = await newSong(await user());
    const unknown = await patch(token, playlist.playlistId, { name: "New", songIds: [theirs] });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.body.errorCode).toBe("unknown_song");
    const twice = await patch(token, playlist.playlistId, { songIds: [song, song] });
    expect(twice.statusCode).toBe(400);
    expect((await withId("getPlaylist", token, playlist.playlistId)).body).toEqual(playlist);
  });

  it("replays a keyed create whose song was deleted since, as any retry", async () => {
    const token = await user();
    const song = await newSong(token);
    const key = crypto.randomUUID();
    const body = { name: "Once", songIds: [song] };
    const first = await create(token, body, { "idempotency-key": key });
    expect(first.statusCode).toBe(201);
    const deleted = await invoke(
      songsHandler,
      httpEvent("deleteSong", { token, pathParameters: { songId: song } }),
    );
    expect(deleted.statusCode).toBe(204);
    const retry = await create(token, body, { "idempotency-key": key });
    expect(retry.statusCode).toBe(201);
    expect(retry.headers["idempotent-replayed"]).toBe("true");
    expect(retry.body).toEqual(first.body);
    // Without the key, the same body is a new request: refused.
    expect((await create(token, body)).body.errorCode).toBe("unknown_song");
  });

  it("checks 500 ids in 5 consistent batch reads, between two reads of the deletion count", async () => {
    const sub = uniqueUser();
    const token = await tokenFor(sub);
    const songIds = await storeSongs(sub, 500);
    const calls = await dynamoCallsOf(() => create(token, { name: "Big", songIds }));
    expect(calls).toEqual([
      "GetItemCommand",
      ...Array(5).fill("BatchGetItemCommand"),
      "TransactWriteItemsCommand",
      "GetItemCommand",
    ]);
    const { body: playlist } = await create(token, { name: "Small" });
    const patched = await dynamoCallsOf(() =>
      patch(token, playlist.playlistId, { songIds: songIds.slice(0, 100) }),
    );
    // The list read first (the playlist and its plays), so that only the ids it adds are read
    // from the songs: all 100 here.
    expect(patched.sort()).toEqual(
      [
        "BatchGetItemCommand",
        "BatchGetItemCommand",
        "GetItemCommand",
        "GetItemCommand",
        "GetItemCommand",
        "UpdateItemCommand",
      ].sort(),
    );
  });
});
