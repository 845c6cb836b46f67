import {
  createFeatured,
  deleteFeatured,
  listFeatured,
  updateFeatured,
} from "../lib/db/featured.ts";
import {
  addPlay,
  deletePlaylist,
  getPlaylist,
  listPlaylists,
  NOT_FOUND,
  putPlaylist,
  updatePlaylist,
} from "../lib/db/playlists.ts";
import { requirePlaylistEditor } from "../lib/domain/roles.ts";
import { httpHandler } from "../lib/http/handler.ts";
import { createdResponse, jsonResponse } from "../lib/http/middleware.ts";
import { itemId, listQuery, newItemId } from "../lib/http/params.ts";
import { newId } from "../lib/ids.ts";
import { PlaylistBody, PlaylistPatchBody, parse } from "../lib/schemas/index.ts";

export const handler = httpHandler({
  "GET /playlists": async ({ event, caller }) => {
    const { limit, cursor } = listQuery(event);
    const page = await listPlaylists(caller.sub, limit, cursor);
    return jsonResponse(200, { playlists: page.items, nextCursor: page.nextCursor });
  },

  "POST /playlists": async ({ event, caller, body }) => {
    const { name, songIds = [] } = parse(PlaylistBody, body);
    const playlistId = newItemId(event, caller.sub);
    const { playlist, created } = await putPlaylist(caller.sub, playlistId, { name, songIds });
    return createdResponse(playlist, created);
  },

  "GET /playlists/{playlistId}": async ({ event, caller }) => {
    const playlist = await getPlaylist(caller.sub, itemId(event, "playlistId", "Playlist"));
    if (!playlist) throw NOT_FOUND();
    return jsonResponse(200, playlist);
  },

  "PATCH /playlists/{playlistId}": async ({ event, caller, body }) => {
    const changes = parse(PlaylistPatchBody, body);
    const playlist = await updatePlaylist(
      caller.sub,
      itemId(event, "playlistId", "Playlist"),
      changes,
    );
    if (!playlist) throw NOT_FOUND();
    return jsonResponse(200, playlist);
  },

  "DELETE /playlists/{playlistId}": async ({ event, caller }) => {
    if (!(await deletePlaylist(caller.sub, itemId(event, "playlistId", "Playlist"))))
      throw NOT_FOUND();
    return jsonResponse(204);
  },

  "POST /playlists/{playlistId}/plays": async ({ event, caller }) => {
    return jsonResponse(200, await addPlay(caller.sub, itemId(event, "playlistId", "Playlist")));
  },

  "GET /playlists/featured": async ({ event, caller }) => {
    const { limit, cursor } = listQuery(event);
    const page = await listFeatured(caller.sub, limit, cursor);
    return jsonResponse(200, { playlists: page.items, nextCursor: page.nextCursor });
  },

  "POST /playlists/featured": async ({ caller, body }) => {
    const { name, songIds = [] } = parse(PlaylistBody, body);
    await requirePlaylistEditor(caller);
    return jsonResponse(201, await createFeatured(newId(), { name, songIds }));
  },

  "PATCH /playlists/featured/{playlistId}": async ({ event, caller, body }) => {
    const changes = parse(PlaylistPatchBody, body);
    await requirePlaylistEditor(caller);
    const playlist = await updateFeatured(itemId(event, "playlistId", "Playlist"), changes);
    if (!playlist) throw NOT_FOUND();
    return jsonResponse(200, playlist);
  },

  "DELETE /playlists/featured/{playlistId}": async ({ event, caller }) => {
    await requirePlaylistEditor(caller);
    if (!(await deleteFeatured(itemId(event, "playlistId", "Playlist")))) throw NOT_FOUND();
    return jsonResponse(204);
  },
});
