/**
 * Sync in process against DynamoDB Local (CONTRACT: Sync, and the playlist paragraph of Quotas
 * and lists): pulls by checkpoint, pushes merged field by field, the playlist's ETag and
 * If-Match, and addSongIds/removeSongIds that never lose another device's change.
 */
import { describe, expect, it } from "vitest";
import { handler as playlistsHandler } from "../../../functions/playlists.ts";
import { handler as songsHandler } from "../../../functions/songs.ts";
import { handler as syncHandler } from "../../../functions/sync.ts";
import { handler as usersHandler } from "../../../functions/users.ts";
import { newId } from "../../../lib/ids.ts";
import { createFeatured, editor, featuredPage } from "../../helpers/featured.ts";
import { httpEvent, invoke } from "../../helpers/invoke.ts";
import { tokenFor, uniqueUser } from "../../helpers/tokens.ts";

async function person() {
  const sub = uniqueUser();
  return { sub, token: await tokenFor(sub) };
}

const newSong = async (token: string, songName = "Song") =>
  (
    await invoke(
      songsHandler,
      httpEvent("createSong", {
        token,
        body: { songName, genre: "pop" },
        headers: { "idempotency-key": null },
      }),
    )
  ).body.songId as string;

const newPlaylist = async (token: string, songIds: string[] = []) =>
  (
    await invoke(
      playlistsHandler,
      httpEvent("createPlaylist", {
        token,
        body: { name: "Road trip", songIds },
        headers: { "idempotency-key": null },
      }),
    )
  ).body.playlistId as string;

const patch = (token: string, playlistId: string, body: unknown, ifMatch?: string) =>
  invoke(
    playlistsHandler,
    httpEvent("updatePlaylist", {
      token,
      pathParameters: { playlistId },
      body,
      ...(ifMatch ? { headers: { "if-match": ifMatch } } : {}),
    }),
  );

const get = (token: string, playlistId: string) =>
  invoke(playlistsHandler, httpEvent("getPlaylist", { token, pathParameters: { playlistId } }));

const pull = (token: string, checkpoint?: string, limit = 100) =>
  invoke(
    syncHandler,
    httpEvent("pullChanges", {
      token,
      query: { limit: String(limit), ...(checkpoint ? { checkpoint } : {}) },
    }),
  );

const push = (token: string, changes: unknown[]) =>
  invoke(syncHandler, httpEvent("pushChanges", { token, body: { changes } }));

interface Doc {
  collection: string;
  id: string;
  version: string;
  deleted: boolean;
  // biome-ignore lint/suspicious/noExplicitAny: a Doc's data, read by assertions.
  data: any;
}

/** Pulls until `documents` is empty: the latest state of each item, and the pulls it took. */
async function pullAll(token: string, from?: string, limit = 100) {
  const latest = new Map<string, Doc>();
  let checkpoint = from;
  for (let pulls = 1; pulls < 200; pulls++) {
    const answer = await pull(token, checkpoint, limit);
    expect(answer.statusCode).toBe(200);
    checkpoint = answer.body.checkpoint;
    if (answer.body.documents.length === 0) return { latest, checkpoint, pulls };
    for (const doc of answer.body.documents as Doc[])
      latest.set(`${doc.collection}/${doc.id}`, doc);
  }
  throw new Error("pulling never ended");
}

describe("playlists: versions and changes that keep other devices' changes", () => {
  it("two devices adding different songs with addSongIds keep both", async () => {
    const { token } = await person();
    const [a, b, c] = [await newSong(token), await newSong(token), await newSong(token)];
    const playlistId = await newPlaylist(token, [a as string]);
    const [one, two] = await Promise.all([
      patch(token, playlistId, { addSongIds: [b] }),
      patch(token, playlistId, { addSongIds: [c, a] }),
    ]);
    expect([one.statusCode, two.statusCode]).toEqual([200, 200]);
    const stored = (await get(token, playlistId)).body.songIds as string[];
    expect(stored).toHaveLength(3);
    expect(new Set(stored)).toEqual(new Set([a, b, c]));
    const removed = await patch(token, playlistId, { removeSongIds: [b, newId()] });
    expect(removed.statusCode).toBe(200);
    expect(removed.body.songIds).toEqual(stored.filter((id) => id !== b));
  });

  it("addSongIds checks each id as one of the owner's songs and the 500 limit", async () => {
    const { token } = await person();
    const other = await person();
    const foreign = await newSong(other.token);
    const playlistId = await newPlaylist(token);
    const refused = await patch(token, playlistId, { addSongIds: [foreign] });
    expect(refused.statusCode).toBe(400);
    expect(refused.body.errorCode).toBe("unknown_song");
    const both = await patch(token, playlistId, { songIds: [], addSongIds: [foreign] });
    expect(both.statusCode).toBe(400);
  });

  it("answers an ETag; PATCH and DELETE with a stale If-Match are 412 and change nothing", async () => {
    const { token } = await person();
    const playlistId = await newPlaylist(token);
    const read = await get(token, playlistId);
    const etag = read.headers.etag as string;
    expect(etag).toMatch(/^"\d{13}\.[\w-]{4}"$/);
    const renamed = await patch(token, playlistId, { name: "First" }, etag);
    expect(renamed.statusCode).toBe(200);
    expect(renamed.headers.etag).not.toBe(etag);
    const stale = await patch(token, playlistId, { name: "Second" }, etag);
    expect(stale.statusCode).toBe(412);
    expect(stale.body.errorCode).toBe("precondition_failed");
    const staleDelete = await invoke(
      playlistsHandler,
      httpEvent("deletePlaylist", {
        token,
        pathParameters: { playlistId },
        headers: { "if-match": etag },
      }),
    );
    expect(staleDelete.statusCode).toBe(412);
    expect((await get(token, playlistId)).body.name).toBe("First");
    const current = await invoke(
      playlistsHandler,
      httpEvent("deletePlaylist", {
        token,
        pathParameters: { playlistId },
        headers: { "if-match": renamed.headers.etag as string },
      }),
    );
    expect(current.statusCode).toBe(204);
  });
});

describe("GET /sync", () => {
  it("pulls songs, playlists and the profile, then deletions, and ends", async () => {
    const { sub, token } = await person();
    const song = await newSong(token, "Blue in Green");
    const playlistId = await newPlaylist(token, [song]);
    const patched = await invoke(
      usersHandler,
      httpEvent("updateUser", {
        token,
        rawPath: `/users/${encodeURIComponent(sub)}`,
        pathParameters: { userId: sub },
        body: { user_metadata: { theme: "dark" } },
      }),
    );
    expect(patched.statusCode, JSON.stringify(patched.body)).toBe(200);
    const first = await pullAll(token);
    expect(first.latest.get(`songs/${song}`)?.data.songName).toBe("Blue in Green");
    expect(first.latest.get(`playlists/${playlistId}`)?.data.songIds).toEqual([song]);
    expect(first.latest.get(`playlists/${playlistId}`)?.version).toBe(
      JSON.parse((await get(token, playlistId)).headers.etag as string),
    );
    expect(first.latest.get(`profile/${sub}`)?.data.user_metadata).toEqual({ theme: "dark" });

    // Deleting the song removes it from the playlist: both show up after the checkpoint.
    await invoke(
      songsHandler,
      httpEvent("deleteSong", { token, pathParameters: { songId: song } }),
    );
    const second = await pullAll(token, first.checkpoint);
    expect(second.latest.get(`songs/${song}`)).toMatchObject({ deleted: true, data: null });
    expect(second.latest.get(`playlists/${playlistId}`)?.data.songIds).toEqual([]);
  });

  it("pages by limit and still ends", async () => {
    const { token } = await person();
    for (let i = 0; i < 7; i++) await newSong(token, `S${i}`);
    const { latest, pulls } = await pullAll(token, undefined, 3);
    expect([...latest.keys()].filter((k) => k.startsWith("songs/"))).toHaveLength(7);
    expect(pulls).toBeLessThan(10);
  });

  it("refuses a checkpoint it did not issue (400) and an expired one (410)", async () => {
    const { token } = await person();
    expect((await pull(token, "garbage")).body.errorCode).toBe("invalid_checkpoint");
    const old = Buffer.from(
      JSON.stringify({ b: `${Date.now() - 31 * 86_400_000}.abcd`, d: [] }),
    ).toString("base64url");
    const expired = await pull(token, old);
    expect(expired.statusCode).toBe(410);
    expect(expired.body.errorCode).toBe("checkpoint_expired");
  });
});

describe("POST /sync", () => {
  it("creates with the device's ids, and the same push again changes nothing", async () => {
    const { token } = await person();
    const songId = newId();
    const playlistId = newId();
    const changes = [
      { collection: "songs", id: songId, assumed: null, data: { songName: "A", genre: "jazz" } },
      {
        collection: "playlists",
        id: playlistId,
        assumed: null,
        data: { name: "Offline", songIds: [songId] },
      },
    ];
    const first = await push(token, changes);
    expect(first.statusCode).toBe(200);
    expect(first.body.errors).toEqual([]);
    expect(first.body.documents.map((d: Doc) => d.id)).toEqual([songId, playlistId]);
    const again = await push(token, changes);
    expect(again.body.documents).toEqual(first.body.documents);
    const listed = await invoke(playlistsHandler, httpEvent("listPlaylists", { token }));
    expect(listed.body.playlists).toHaveLength(1);
  });

  it("merges an older assumed field by field, reporting what both sides changed", async () => {
    const { token } = await person();
    const [a, b, c] = [await newSong(token), await newSong(token), await newSong(token)];
    const playlistId = await newPlaylist(token, [a as string]);
    const { latest } = await pullAll(token);
    const assumed = latest.get(`playlists/${playlistId}`) as Doc;
    // Another device renames it and adds b; this one renames it and adds c.
    await patch(token, playlistId, { name: "Theirs", addSongIds: [b] });
    const pushed = await push(token, [
      {
        collection: "playlists",
        id: playlistId,
        assumed,
        data: { name: "Mine", songIds: [a, c] },
      },
    ]);
    expect(pushed.body.errors).toEqual([]);
    expect(pushed.body.documents[0].data).toMatchObject({ name: "Mine", songIds: [a, c, b] });
    expect(pushed.body.conflicts).toEqual([
      { collection: "playlists", id: playlistId, field: "name", kept: "Mine", replaced: "Theirs" },
    ]);
  });

  it("lets a deletion win over a concurrent edit, refuses plays and app_metadata alone", async () => {
    const { sub, token } = await person();
    const playlistId = await newPlaylist(token);
    const { latest } = await pullAll(token);
    const assumed = latest.get(`playlists/${playlistId}`) as Doc;
    const answer = await push(token, [
      { collection: "playlists", id: playlistId, assumed, data: null },
      { collection: "playlists", id: playlistId, assumed, data: { name: "Edited" } },
      { collection: "profile", id: sub, assumed: null, data: { app_metadata: { plan: "pro" } } },
      { collection: "profile", id: sub, assumed: null, data: { user_metadata: { a: 1 } } },
    ]);
    expect(answer.body.documents[0]).toMatchObject({ deleted: true, id: playlistId });
    expect(answer.body.documents[1]).toMatchObject({ deleted: true, id: playlistId });
    expect(answer.body.errors).toEqual([
      {
        collection: "profile",
        id: sub,
        error: expect.objectContaining({ statusCode: 403 }),
      },
    ]);
    expect(answer.body.documents.at(-1).data.user_metadata).toEqual({ a: 1 });
  });
});

describe("a push that changes a song", () => {
  it("renames it, and deleting it takes it out of the editor's featured playlists too", async () => {
    const alice = await editor();
    const songId = await newSong(alice.token, "Before");
    const created = await createFeatured(alice.token, { name: "Shelf", songIds: [songId] });
    expect(created.statusCode).toBe(201);
    const pulled = (await pullAll(alice.token)).latest.get(`songs/${songId}`) as Doc;
    const renamed = await push(alice.token, [
      {
        collection: "songs",
        id: songId,
        assumed: pulled,
        data: { songName: "After", genre: "pop" },
      },
    ]);
    expect(renamed.statusCode).toBe(200);
    const [doc] = renamed.body.documents as Doc[];
    expect(doc?.data.songName).toBe("After");
    const gone = await push(alice.token, [
      { collection: "songs", id: songId, assumed: doc, data: null },
    ]);
    expect(gone.body.documents[0]).toMatchObject({ id: songId, deleted: true });
    // The shelf is shared by every test's editors: walked to the end, oldest first.
    let shelf: { playlistId: string; songIds: string[] } | undefined;
    let cursor: string | undefined;
    do {
      const page = await featuredPage(alice.token, { limit: "100", ...(cursor ? { cursor } : {}) });
      shelf ??= page.body.playlists.find(
        (p: { playlistId: string }) => p.playlistId === created.body.playlistId,
      );
      cursor = page.body.nextCursor ?? undefined;
    } while (cursor && !shelf);
    expect(shelf?.songIds).toEqual([]);
  });
});
