import { describe, expect, it, vi } from "vitest";
import { handler as genreHandler } from "../../../functions/getFavGenre.ts";
import { handler as playlistsHandler } from "../../../functions/playlists.ts";
import { handler as songsHandler } from "../../../functions/songs.ts";
import { getUserCounters } from "../../../lib/db/counters/user.ts";
import { getProfile } from "../../../lib/db/profiles.ts";
import { httpEvent, invoke } from "../../helpers/invoke.ts";
import { storeProfile } from "../../helpers/profiles.ts";
import { pastTokenCutOff, tokenFor, uniqueUser } from "../../helpers/tokens.ts";
import { onUser, patch, self } from "../../helpers/users.ts";

describe("GET /users/{userId}", () => {
  it("answers a signed-in user's own empty profile with 200 before anything is stored, seen from then on", async () => {
    const { sub, token } = await self();
    const before = new Date().toISOString();
    const response = await onUser("getUser", token, sub);
    expect(response.statusCode).toBe(200);
    expect(response.body).toEqual({
      user_id: sub,
      user_metadata: {},
      app_metadata: {},
      created_at: expect.any(String),
      updated_at: response.body.created_at,
    });
    expect(response.body.created_at >= before).toBe(true);
    expect(response.headers.etag).toBe('"0"');
    // The same ETag, the same body: the first sight is kept.
    expect((await onUser("getUser", token, sub)).body).toEqual(response.body);
  });

  it("dates the user from their first write of any kind: a song and a play before any metadata", async () => {
    const { sub, token } = await self();
    const start = new Date().toISOString();
    const song = await invoke(
      songsHandler,
      httpEvent("createSong", {
        token,
        body: { songName: "First", genre: "g" },
        headers: { "idempotency-key": null },
      }),
    );
    expect(song.statusCode).toBe(201);
    const afterSong = new Date().toISOString();
    const { body: playlist } = await invoke(
      playlistsHandler,
      httpEvent("createPlaylist", {
        token,
        body: { name: "P" },
        headers: { "idempotency-key": null },
      }),
    );
    await invoke(
      playlistsHandler,
      httpEvent("playPlaylist", { token, pathParameters: { playlistId: playlist.playlistId } }),
    );
    const seen = await onUser("getUser", token, sub);
    expect(seen.headers.etag).toBe('"0"');
    expect(seen.body.created_at >= start && seen.body.created_at <= afterSong).toBe(true);
    expect(seen.body.updated_at).toBe(seen.body.created_at);
    // An operator finds the user too: the API has seen them.
    const operator = await tokenFor(uniqueUser("auth0"), { permissions: ["read:users"] });
    expect((await onUser("getUser", operator, sub)).body).toEqual(seen.body);

    // A change of what the object shows moves updated_at and the ETag; created_at stays.
    const genre = await invoke(
      genreHandler,
      httpEvent("setFavouriteGenre", { token, body: { genre: "jazz" } }),
    );
    expect(genre.statusCode).toBe(200);
    const changed = await onUser("getUser", token, sub);
    expect(changed.body.created_at).toBe(seen.body.created_at);
    expect(changed.body.updated_at > seen.body.updated_at).toBe(true);
    expect(changed.headers.etag).not.toBe(seen.headers.etag);
    const patched = await patch(token, sub, { user_metadata: { theme: "dark" } });
    expect(patched.body.created_at).toBe(seen.body.created_at);
    expect(patched.body.updated_at >= changed.body.updated_at).toBe(true);
    expect(patched.headers.etag).not.toBe(changed.headers.etag);
    expect((await onUser("getUser", token, sub)).body).toEqual(patched.body);
  });

  it("lets an operator PATCH a user the API knows only from a song (something is stored)", async () => {
    const { sub, token } = await self();
    await invoke(
      songsHandler,
      httpEvent("createSong", {
        token,
        body: { songName: "Only", genre: "g" },
        headers: { "idempotency-key": null },
      }),
    );
    const operator = await tokenFor(uniqueUser("auth0"), {
      permissions: ["update:users_app_metadata"],
    });
    const patched = await patch(operator, sub, { app_metadata: { plan: "pro" } });
    expect(patched.statusCode).toBe(200);
    expect(patched.body.app_metadata).toEqual({ plan: "pro" });
  });

  it("honours Auth0's fields and include_fields, and refuses a malformed include_fields with 400", async () => {
    const { sub, token } = await self();
    await patch(token, sub, { user_metadata: { theme: "dark" }, app_metadata: undefined });
    const only = await onUser("getUser", token, sub, {
      query: { fields: "user_id, user_metadata,email" },
    });
    expect(only.statusCode).toBe(200);
    expect(only.body).toEqual({ user_id: sub, user_metadata: { theme: "dark" } });
    const all = await onUser("getUser", token, sub);
    expect(only.headers.etag).toBe(all.headers.etag);
    const without = await onUser("getUser", token, sub, {
      query: { fields: "user_metadata,app_metadata", include_fields: "false" },
    });
    expect(Object.keys(without.body).sort()).toEqual(["created_at", "updated_at", "user_id"]);
    expect((await onUser("getUser", token, sub, { query: { fields: "" } })).body).toEqual(all.body);
    const refused = await onUser("getUser", token, sub, { query: { include_fields: "maybe" } });
    expect(refused.statusCode).toBe(400);
    expect(refused.body.errorCode).toBe("invalid_query");
  });

  it("decodes the URL-encoded id exactly once", async () => {
    // A user id that itself holds a percent sign: decoding twice would name someone else.
    const sub = "auth0|odd%7Cid";
    const token = await tokenFor(sub);
    const once = await onUser("getUser", token, sub, {
      rawPath: `/users/${encodeURIComponent(sub)}`,
    });
    expect(once.statusCode).toBe(200);
    expect(once.body.user_id).toBe(sub);
  });

  it("refuses malformed percent-encoding with 400", async () => {
    const { sub, token } = await self();
    const response = await onUser("getUser", token, sub, { rawPath: "/users/%E0%A4%A" });
    expect(response.statusCode).toBe(400);
  });

  it("answers another user's profile with 403 and none of its content", async () => {
    const victim = await self();
    await patch(victim.token, victim.sub, { user_metadata: { secret: "s3cret" } });
    const { token } = await self();
    const response = await onUser("getUser", token, victim.sub);
    expect(response.statusCode).toBe(403);
    expect(JSON.stringify(response.body)).not.toContain("s3cret");
  });

  it("lets read:users read anyone, and answers 404 for a user with nothing stored", async () => {
    const victim = await self();
    await patch(victim.token, victim.sub, { user_metadata: { theme: "dark" } });
    const operator = await tokenFor(uniqueUser("auth0"), { permissions: ["read:users"] });
    const read = await onUser("getUser", operator, victim.sub);
    expect(read.statusCode).toBe(200);
    expect(read.body.user_metadata).toEqual({ theme: "dark" });
    const missing = await onUser("getUser", operator, uniqueUser());
    expect(missing.statusCode).toBe(404);
  });
});

describe("GET /users/{userId}/export", () => {
  const exportOf = (token: string, userId: string, query?: Record<string, string>) =>
    onUser("exportUser", token, userId, {
      rawPath: `/users/${encodeURIComponent(userId)}/export`,
      ...(query ? { query } : {}),
    });

  /** The ExportPages values of the EMF lines written while `work` runs. */
  async function exportPagesCounted(work: () => Promise<unknown>): Promise<number[]> {
    const lines: string[] = [];
    const spy = vi.spyOn(console, "log").mockImplementation((line: unknown) => {
      lines.push(String(line));
    });
    try {
      await work();
    } finally {
      spy.mockRestore();
    }
    return lines
      .filter((line) => line.includes('"_aws"'))
      .map((line) => JSON.parse(line) as { ExportPages?: number })
      .flatMap((metric) => (metric.ExportPages === undefined ? [] : [metric.ExportPages]));
  }

  it("counts ExportPages once for each page it answers, and not for a refused request", async () => {
    const { sub, token } = await self();
    await patch(token, sub, { user_metadata: { theme: "dark" } });
    const answered = await exportPagesCounted(async () => {
      for (let i = 0; i < 2; i++) expect((await exportOf(token, sub)).statusCode).toBe(200);
    });
    expect(answered).toEqual([1, 1]);

    const other = await self();
    const operator = await tokenFor(uniqueUser("auth0"), { permissions: ["read:users"] });
    const refused = await exportPagesCounted(async () => {
      expect((await exportOf(other.token, sub)).statusCode).toBe(403);
      expect((await exportOf(operator, uniqueUser())).statusCode).toBe(404);
      expect((await exportOf(token, sub, { cursor: "not-a-cursor" })).statusCode).toBe(400);
    });
    expect(refused).toEqual([]);
  });
});

describe("DELETE /users/{userId}", () => {
  it("erases the profile, every song and playlist (over several pages), and is idempotent", async () => {
    const { sub, token } = await self();
    const bystander = await self();
    await patch(token, sub, { user_metadata: { theme: "dark" } });
    const songs = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        invoke(
          songsHandler,
          httpEvent("createSong", {
            token,
            body: { songName: `S${i}`, genre: "g" },
            headers: { "idempotency-key": null },
          }),
        ),
      ),
    );
    expect(songs.every((s) => s.statusCode === 201)).toBe(true);
    for (let i = 0; i < 120; i++) {
      const { body } = await invoke(
        playlistsHandler,
        httpEvent("createPlaylist", {
          token,
          body: { name: `P${i}` },
          headers: { "idempotency-key": null },
        }),
      );
      if (i % 10 === 0) {
        await invoke(
          playlistsHandler,
          httpEvent("playPlaylist", { token, pathParameters: { playlistId: body.playlistId } }),
        );
      }
    }
    const bystanderSong = await invoke(
      songsHandler,
      httpEvent("createSong", {
        token: bystander.token,
        body: { songName: "Mine", genre: "g" },
        headers: { "idempotency-key": null },
      }),
    );

    expect((await onUser("deleteUser", token, sub)).statusCode).toBe(204);
    expect(await getProfile(sub)).toBeUndefined();
    // The deleted account's token opens nothing any more (CONTRACT: Tokens outlive nothing).
    expect((await onUser("getUser", token, sub)).statusCode).toBe(401);
    expect((await onUser("deleteUser", token, sub)).statusCode).toBe(401);
    // A token of a later login finds nothing, and deleting again is done at once.
    await pastTokenCutOff();
    const later = await tokenFor(sub);
    const songList = await invoke(songsHandler, httpEvent("listSongs", { token: later }));
    expect(songList.body.songs).toEqual([]);
    const playlistList = await invoke(
      playlistsHandler,
      httpEvent("listPlaylists", { token: later }),
    );
    expect(playlistList.body.playlists).toEqual([]);
    expect((await onUser("getUser", later, sub)).body.user_metadata).toEqual({});
    expect((await onUser("deleteUser", later, sub)).statusCode).toBe(204);

    const stillThere = await invoke(
      songsHandler,
      httpEvent("getSong", {
        token: bystander.token,
        pathParameters: { songId: bystanderSong.body.songId },
      }),
    );
    expect(stillThere.statusCode).toBe(200);
  });

  it("refuses to delete someone else without delete:users, and allows it with", async () => {
    const target = await self();
    await patch(target.token, target.sub, { user_metadata: { a: 1 } });
    expect((await onUser("deleteUser", await tokenFor(uniqueUser()), target.sub)).statusCode).toBe(
      403,
    );
    expect(await getProfile(target.sub)).toBeDefined();
    const operator = await tokenFor(uniqueUser(), { permissions: ["delete:users"] });
    expect((await onUser("deleteUser", operator, target.sub)).statusCode).toBe(204);
    expect(await getProfile(target.sub)).toBeUndefined();
  });

  it("keeps stored plays out of reach of the user: a PATCH cannot set them", async () => {
    const { sub, token } = await self();
    await storeProfile(sub, { total_plays: 3 });
    const response = await patch(token, sub, { user_metadata: { total_plays: 1000 } });
    expect(response.statusCode).toBe(200);
    expect((await getUserCounters(sub)).totalPlays).toBe(3);
  });
});
