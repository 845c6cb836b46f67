import { describe, expect, it } from "vitest";
import { handler } from "../../../functions/playlists.ts";
import { getProfile } from "../../../lib/db/profiles.ts";
import { allFeatured } from "../../helpers/featured.ts";
import { httpEvent, invoke } from "../../helpers/invoke.ts";
import { user } from "../../helpers/playlists.ts";
import { storeProfile } from "../../helpers/profiles.ts";
import { storeSongs } from "../../helpers/tables.ts";
import { tokenFor, uniqueUser } from "../../helpers/tokens.ts";

describe("featured playlists", () => {
  const featured = (
    fixture: string,
    token: string,
    changes: { body?: unknown; id?: string } = {},
  ) =>
    invoke(
      handler,
      httpEvent(fixture, {
        token,
        ...(changes.body === undefined ? {} : { body: changes.body }),
        ...(changes.id ? { pathParameters: { playlistId: changes.id } } : {}),
      }),
    );

  async function editor() {
    const sub = uniqueUser();
    await storeProfile(sub, { app_metadata: { roles: ["playlist_editor"] } });
    return { sub, token: await tokenFor(sub) };
  }

  it("creates a featured playlist once per Idempotency-Key, replaying the first response", async () => {
    const { token } = await editor();
    const key = crypto.randomUUID();
    const name = `Once ${key}`;
    const keyed = (body: unknown) =>
      invoke(
        handler,
        httpEvent("createFeaturedPlaylist", { token, body, headers: { "idempotency-key": key } }),
      );
    const first = await keyed({ name });
    expect(first.statusCode).toBe(201);
    const again = await keyed({ name });
    expect(again.statusCode).toBe(201);
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(again.body).toEqual(first.body);
    expect((await keyed({ name: `${name} other` })).statusCode).toBe(422);
    const names = (await allFeatured(token)).map((p) => p.name as string);
    expect(names.filter((n) => n.startsWith(name))).toEqual([name]);
  });

  it("lets an editor create, rename and delete; every user reads them", async () => {
    const { token } = await editor();
    const created = await featured("createFeaturedPlaylist", token, {
      body: { name: "Editors' picks" },
    });
    expect(created.statusCode).toBe(201);
    expect(created.body).toMatchObject({ name: "Editors' picks", featured: true, plays: 0 });
    const id = created.body.playlistId;
    const renamed = await featured("updateFeaturedPlaylist", token, {
      id,
      body: { name: "Winter picks" },
    });
    expect(renamed).toMatchObject({
      statusCode: 200,
      body: { name: "Winter picks", featured: true },
    });

    const reader = await user();
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await invoke(
        handler,
        httpEvent("listFeaturedPlaylists", {
          token: reader,
          query: { limit: "100", ...(cursor ? { cursor } : {}) },
        }),
      );
      expect(page.statusCode).toBe(200);
      ids.push(...page.body.playlists.map((p: { playlistId: string }) => p.playlistId));
      cursor = page.body.nextCursor ?? undefined;
    } while (cursor);
    expect(ids).toContain(id);

    expect((await featured("deleteFeaturedPlaylist", token, { id })).statusCode).toBe(204);
    expect((await featured("deleteFeaturedPlaylist", token, { id })).statusCode).toBe(404);
  });

  it("refuses non-editors with 403 for create, rename and delete, changing nothing", async () => {
    const { token: editorToken } = await editor();
    const { body: existing } = await featured("createFeaturedPlaylist", editorToken, {
      body: { name: "Keep me" },
    });
    const sub = uniqueUser();
    await storeProfile(sub, { app_metadata: { roles: ["beta_tester"], plan: "premium" } });
    const token = await tokenFor(sub);
    for (const [fixture, changes] of [
      ["createFeaturedPlaylist", { body: { name: "Mine now" } }],
      ["updateFeaturedPlaylist", { id: existing.playlistId, body: { name: "pwned" } }],
      ["deleteFeaturedPlaylist", { id: existing.playlistId }],
    ] as const) {
      const response = await featured(fixture, token, changes);
      expect(response.statusCode).toBe(403);
      expect(response.body.errorCode).toBe("missing_role");
    }
    const renamedByEditor = await featured("updateFeaturedPlaylist", editorToken, {
      id: existing.playlistId,
      body: { songIds: [] },
    });
    expect(renamedByEditor.statusCode, JSON.stringify(renamedByEditor.body)).toBe(200);
    expect(renamedByEditor.body.name).toBe("Keep me");
  });

  it("takes only the editor's own songs, on create and on change", async () => {
    const { sub, token } = await editor();
    const [mine] = await storeSongs(sub, 1);
    const [theirs] = await storeSongs(uniqueUser(), 1);
    const refused = await featured("createFeaturedPlaylist", token, {
      body: { name: "Picks", songIds: [theirs] },
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.body.errorCode).toBe("unknown_song");
    expect(refused.body.message).toContain(JSON.stringify(theirs));
    const created = await featured("createFeaturedPlaylist", token, {
      body: { name: "Picks", songIds: [mine] },
    });
    expect(created.statusCode).toBe(201);
    expect(created.body.songIds).toEqual([mine]);
    const id = created.body.playlistId;
    for (const songIds of [
      [mine, theirs],
      ["a", "a"],
    ]) {
      const changed = await featured("updateFeaturedPlaylist", token, { id, body: { songIds } });
      expect(changed.statusCode).toBe(400);
    }
    const page = await invoke(
      handler,
      httpEvent("listFeaturedPlaylists", { token, query: { limit: "100" } }),
    );
    expect(page.statusCode).toBe(200);
    expect((await featured("deleteFeaturedPlaylist", token, { id })).statusCode).toBe(204);
  });

  it("trusts the stored roles, not a roles claim in the token", async () => {
    const sub = uniqueUser();
    const token = await tokenFor(sub, {
      claims: { "https://music.example.com/roles": ["playlist_editor"] },
    });
    const response = await featured("createFeaturedPlaylist", token, { body: { name: "Sneaky" } });
    expect(response.statusCode).toBe(403);
  });

  it("refuses an editor at once when the stored role is removed", async () => {
    const { sub, token } = await editor();
    expect(
      (await featured("createFeaturedPlaylist", token, { body: { name: "Before" } })).statusCode,
    ).toBe(201);
    await storeProfile(sub, { app_metadata: { roles: [] } });
    expect(
      (await featured("createFeaturedPlaylist", token, { body: { name: "After" } })).statusCode,
    ).toBe(403);
    expect((await getProfile(sub))?.appMetadata.roles).toEqual([]);
  });
});
