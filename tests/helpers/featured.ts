/**
 * The featured routes through the playlists function's handler, as the featured tests call
 * them: an editor, and each route with its sample event.
 */
import { expect } from "vitest";
import { handler } from "../../functions/playlists.ts";
import { httpEvent, invoke } from "./invoke.ts";
import { storeProfile } from "./profiles.ts";
import { tokenFor, uniqueUser } from "./tokens.ts";

/** A new user whose stored roles make them an editor. */
export async function editor() {
  const sub = uniqueUser();
  await storeProfile(sub, { app_metadata: { roles: ["playlist_editor"] } });
  return { sub, token: await tokenFor(sub) };
}

export const createFeatured = (token: string, body: unknown) =>
  invoke(
    handler,
    httpEvent("createFeaturedPlaylist", { token, body, headers: { "idempotency-key": null } }),
  );
export const patchFeatured = (token: string, playlistId: string, body: unknown) =>
  invoke(
    handler,
    httpEvent("updateFeaturedPlaylist", { token, pathParameters: { playlistId }, body }),
  );
export const removeFeatured = (token: string, playlistId: string) =>
  invoke(handler, httpEvent("deleteFeaturedPlaylist", { token, pathParameters: { playlistId } }));
export const restoreFeatured = (token: string, playlistId: string) =>
  invoke(handler, httpEvent("restoreFeaturedPlaylist", { token, pathParameters: { playlistId } }));
export const featuredPage = (token: string, query: Record<string, string> = {}) =>
  invoke(handler, httpEvent("listFeaturedPlaylists", { token, query }));

/** Every featured playlist, walking the cursors with pages of `limit`, each answered 200. */
export async function allFeatured(token: string, limit = 100) {
  const playlists: Record<string, unknown>[] = [];
  let cursor: string | undefined;
  do {
    const page = await featuredPage(token, { limit: String(limit), ...(cursor ? { cursor } : {}) });
    expect(page.statusCode).toBe(200);
    playlists.push(...page.body.playlists);
    cursor = page.body.nextCursor ?? undefined;
  } while (cursor);
  return playlists;
}
