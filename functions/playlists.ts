import { config } from "../lib/config.ts";
import { listFeatured, newFeatured, putFeatured } from "../lib/db/featured.ts";
import { getRecord, type RecordItems } from "../lib/db/idempotency.ts";
import {
  addPlay,
  deletePlaylist,
  getPlaylist,
  getVersionedPlaylist,
  listPlaylists,
  newPlaylist,
  putPlaylist,
} from "../lib/db/playlists.ts";
import { changeFeatured, deleteFeatured, restoreDeletedFeatured } from "../lib/domain/featured.ts";
import { changePlaylist } from "../lib/domain/playlists.ts";
import { COUNTERS_WARM_UP, playTime } from "../lib/domain/plays.ts";
import { requirePlaylistEditor } from "../lib/domain/roles.ts";
import { checkSongIds, type SongsChecked, settleSongIds } from "../lib/domain/songs.ts";
import { type ErrorCode, NotFoundError, TooManyRequestsError } from "../lib/errors.ts";
import { versionTag } from "../lib/http/etag.ts";
import { httpHandler } from "../lib/http/handler.ts";
import {
  completeResponse,
  createOnce,
  type KeyedRequest,
  keyedRequest,
  recordOf,
  replay,
} from "../lib/http/idempotency.ts";
import { IdempotencyKey, PlaylistId, SongId, VersionIfMatch } from "../lib/http/params.ts";
import { jsonResponse } from "../lib/http/responses.ts";
import { answered, defineRoute } from "../lib/http/route.ts";
import type { HttpRequest, HttpResponse } from "../lib/http/types.ts";
import { warmContainer } from "../lib/lambda/warm-up.ts";
import { audit } from "../lib/log.ts";
import { metric } from "../lib/metrics.ts";
import { Refused, type WriteRefusal } from "../lib/refusals.ts";
import { PlayBody, PlaylistBody, PlaylistPatchBody } from "../lib/schemas/library.ts";
import { ListQuery } from "../lib/schemas/lists.ts";

const { maxPlaylistsPerUser, maxFeaturedPerEditor, playCooldownSeconds } = config();
const notFound = () => new NotFoundError("Playlist not found", "playlist_not_found");

function auditFeatured(request: HttpRequest, action: string, playlistId: string, changed?: object) {
  audit(action, {
    actor: request.caller.sub,
    target: `featured:${playlistId}`,
    changed: changed ? Object.keys(changed).join(" ") : undefined,
    correlationId: request.correlationId,
    clientCorrelationId: request.clientCorrelationId,
    requestId: request.event.requestContext?.requestId,
  });
}

/** The playlist as it is after a play. */
async function playedResponse(userId: string, playlistId: string) {
  const playlist = await getPlaylist(userId, playlistId, true);
  if (!playlist) throw notFound();
  return jsonResponse(200, playlist);
}

/**
 * A play's Idempotency-Key record keeps its answer without songIds, the bulk of a playlist (500
 * ids: 13 kB, most of the record's write units): a replay reads them again, as they are then
 * (none when the playlist is gone). A record kept whole (before this) replays as it is.
 */
function withoutSongIds(response: HttpResponse): HttpResponse {
  const { songIds: _, ...rest } = JSON.parse(String(response.body)) as Record<string, unknown>;
  return { ...response, body: JSON.stringify(rest) };
}

async function withSongIds(userId: string, playlistId: string, response: HttpResponse) {
  if (response.statusCode !== 200) return response;
  const { playlistId: id, name, songIds, ...rest } = JSON.parse(String(response.body));
  if (songIds !== undefined) return response;
  const playlist = await getPlaylist(userId, playlistId, false);
  const body = { playlistId: id, name, songIds: playlist?.songIds ?? [], ...rest };
  return { ...response, body: JSON.stringify(body) };
}

/** 429: `conflictAt` is the counted play the refused one came too close to. */
function tooSoon(conflictAt: number | undefined): never {
  const waitMs = (conflictAt ?? Date.now()) + playCooldownSeconds * 1000 - Date.now();
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  throw new TooManyRequestsError(
    `One play counts per ${playCooldownSeconds} s: try again in ${seconds} s`,
    "play_too_soon",
    seconds,
  );
}

/**
 * A create whose songIds must name the caller's songs: checked first (400 unknown_song), then
 * created exactly once. A retry whose key was recorded already answers as every retry does
 * (the first response, 422 or 409), even when one of its songs is gone since.
 */
async function createWithSongs(
  request: HttpRequest,
  songIds: string[],
  response: HttpResponse,
  write: (record: RecordItems) => Promise<WriteRefusal | undefined>,
  quotaMessage?: string,
): Promise<{ response: HttpResponse; checked?: SongsChecked }> {
  let checked: SongsChecked | undefined;
  try {
    checked = await checkSongIds(request.caller.sub, songIds);
  } catch (error) {
    const keyed = keyedRequest(request);
    if (keyed && (await getRecord(keyed.recordId))) return { response: await replay(keyed) };
    throw error;
  }
  return { response: await createOnce(request, response, write, quotaMessage), checked };
}

/** The playlist's version when one of `versions` names it (412 otherwise, 404 without it). */
async function matchingVersion(userId: string, playlistId: string, versions: string[]) {
  const found = await getVersionedPlaylist(userId, playlistId, true);
  if (!found) throw notFound();
  if (!versions.includes(found.version)) throw new Refused("precondition");
  return found.version;
}

const replayed = (response: HttpResponse) => response.headers?.["Idempotent-Replayed"] === "true";

await warmContainer(COUNTERS_WARM_UP);

const params = { playlistId: PlaylistId };
const idempotent = { idempotencyKey: IdempotencyKey } as const;
const replayable = { "Idempotent-Replayed": "optional" } as const;
const NOT_EDITOR: ErrorCode[] = ["missing_role", "not_featured_creator", "insufficient_scope"];

export const routes = [
  defineRoute({
    key: "GET /playlists",
    id: "listPlaylists",
    tag: "playlists",
    summary: "The caller's playlists",
    description: "The caller's playlists with their plays, in creation order, a page at a time.",
    caller: "person",
    query: ListQuery,
    responses: { 200: { schema: "PlaylistPage" } },
    errors: ["invalid_cursor"],
    example: { query: { limit: "25" } },
    handler: async ({ query, caller, respond }) => {
      const page = await listPlaylists(caller.sub, query.limit, query.cursor);
      return respond(200, { playlists: page.items, nextCursor: page.nextCursor });
    },
  }),

  defineRoute({
    key: "POST /playlists",
    id: "createPlaylist",
    tag: "playlists",
    summary: "Create a playlist",
    description:
      "Creates a playlist, within MAX_PLAYLISTS_PER_USER; songIds are songs of the caller, each at most once. With an Idempotency-Key, a retry answers the first response.",
    caller: "person",
    headers: idempotent,
    body: PlaylistBody,
    responses: { 201: { schema: "Playlist", headers: replayable } },
    errors: ["unknown_song", "quota_exceeded", "account_being_deleted"],
    notes: {
      unknown_song: "an id in songIds that is not one of the caller's songs",
      quota_exceeded: "MAX_PLAYLISTS_PER_USER reached",
    },
    example: {
      body: { name: "Road trip", songIds: [SongId.example] },
      headers: { "idempotency-key": "b0e2d8c4-5a61-4f3e-8d7c-2b9a1e0f6c33" },
    },
    handler: async ({ body, caller, request }) => {
      const userId = caller.sub;
      const playlist = newPlaylist(body, false);
      const { response, checked } = await createWithSongs(
        request,
        playlist.songIds,
        jsonResponse(201, playlist),
        (extra) => putPlaylist(userId, playlist, maxPlaylistsPerUser, extra),
        `A user holds at most ${maxPlaylistsPerUser} playlists: delete some before adding more`,
      );
      if (!replayed(response)) {
        await settleSongIds(userId, checked, playlist);
      }
      return answered(response);
    },
  }),

  defineRoute({
    key: "GET /playlists/{playlistId}",
    id: "getPlaylist",
    tag: "playlists",
    summary: "One of the caller's playlists",
    description:
      "One of the caller's playlists with its plays. Its strong ETag is its version, as GET /sync reports it (a play does not move it).",
    caller: "person",
    params,
    responses: { 200: { schema: "Playlist", headers: { ETag: "required" } } },
    handler: async ({ params, caller, respond }) => {
      const found = await getVersionedPlaylist(caller.sub, params.playlistId);
      if (!found) throw notFound();
      return respond(200, found.playlist, { ETag: versionTag(found.version) });
    },
  }),

  defineRoute({
    key: "PATCH /playlists/{playlistId}",
    id: "updatePlaylist",
    tag: "playlists",
    summary: "Rename a playlist or change its songs",
    description:
      "Renames a playlist or changes its songs (songs of the caller, each at most once, at most 500): songIds replaces the list; addSongIds (each added once, at the end) and removeSongIds (an absent id is fine) change it without losing another device's change. If-Match (the ETag GET answers) makes it conditional: 412 and nothing changed when the playlist changed since.",
    caller: "person",
    params,
    headers: { ifMatch: VersionIfMatch },
    body: PlaylistPatchBody,
    responses: { 200: { schema: "Playlist", headers: { ETag: "required" } } },
    errors: ["unknown_song", "write_conflict"],
    notes: {
      unknown_song: "an id in songIds or addSongIds that is not one of the caller's songs",
      write_conflict: "under extreme contention (retry)",
    },
    example: { body: { name: "Road trip 2026" } },
    handler: async ({ body: changes, params, caller, headers, respond }) => {
      const outcome = await changePlaylist(caller.sub, params.playlistId, changes, headers.ifMatch);
      if (outcome === "not_found") throw notFound();
      return respond(200, outcome.playlist, { ETag: versionTag(outcome.version) });
    },
  }),

  defineRoute({
    key: "DELETE /playlists/{playlistId}",
    id: "deletePlaylist",
    tag: "playlists",
    summary: "Delete a playlist (the play total drops by its plays)",
    description:
      "Deletes a playlist; the caller's play total drops by its plays. If-Match (the ETag GET answers) makes it conditional: 412 and nothing deleted when the playlist changed since.",
    caller: "person",
    params,
    headers: { ifMatch: VersionIfMatch },
    responses: { 204: {} },
    handler: async ({ params, caller, headers, respond }) => {
      const ifMatch = headers.ifMatch;
      const versions = Array.isArray(ifMatch) ? ifMatch : undefined;
      // Several ETags: the playlist's version is read, and the delete is conditional on it.
      const expected =
        versions?.length === 1
          ? versions[0]
          : versions
            ? await matchingVersion(caller.sub, params.playlistId, versions)
            : undefined;
      const outcome = await deletePlaylist(caller.sub, params.playlistId, expected);
      if (outcome === "precondition") throw new Refused("precondition");
      if (!outcome) throw notFound();
      return respond(204, undefined);
    },
  }),

  // One play, counted once per cooldown and once per Idempotency-Key. The response (the playlist
  // as it now is) needs a read after the count, so the key's record gets it in a second step.
  defineRoute({
    key: "POST /playlists/{playlistId}/plays",
    id: "playPlaylist",
    tag: "playlists",
    summary: "Count one play (plays of a user at least PLAY_COOLDOWN_SECONDS apart)",
    description:
      'Counts one play, once per Idempotency-Key: now, or when it was played ({"playedAt": ISO 8601}, for a play made offline and sent later: at most 7 days ago, not before the playlist was created, at most a minute ahead, which counts as now). Two counted plays of a user are at least PLAY_COOLDOWN_SECONDS apart by their play times, whatever order they arrive in; a play closer than that to a counted one is 429.',
    caller: "person",
    params,
    headers: idempotent,
    body: PlayBody,
    bodyOptional: true,
    responses: { 200: { schema: "Playlist", headers: replayable } },
    errors: ["play_too_soon", "invalid_played_at", "account_being_deleted"],
    notes: { play_too_soon: "within the cooldown of a counted play; nothing counted" },
    handler: async ({ params, caller, request, body }) => {
      const userId = caller.sub;
      const { playlistId } = params;
      const keyed = keyedRequest(request);
      // A retry of a recorded play answers the first response, even when its playlist is gone
      // or its playedAt has aged past 7 days since.
      const replayPlay = async (key: KeyedRequest, recover?: () => Promise<HttpResponse>) =>
        answered(await withSongIds(userId, playlistId, await replay(key, recover)));
      const recorded = async () =>
        keyed && (await getRecord(keyed.recordId)) ? replayPlay(keyed) : undefined;
      let playedAt: number | undefined;
      try {
        playedAt = await playTime(userId, playlistId, body?.playedAt);
      } catch (error) {
        const replayed = await recorded();
        if (replayed) return replayed;
        throw error;
      }
      const refused =
        playedAt === undefined
          ? ({ refusal: "not_found" } as const)
          : await addPlay(userId, playlistId, playCooldownSeconds, playedAt, recordOf(keyed));
      if (refused?.refusal === "duplicate_key" && keyed) {
        return replayPlay(keyed, () => playedResponse(userId, playlistId));
      }
      if (refused?.refusal === "not_found") {
        const replayed = await recorded();
        if (replayed) return replayed;
        throw notFound();
      }
      if (refused?.refusal === "too_soon") {
        metric("PlaysRefused");
        return tooSoon(refused.conflictAt);
      }
      if (refused) throw new Refused(refused.refusal);
      metric("PlaysCounted");
      const response = await playedResponse(userId, playlistId);
      if (keyed) await completeResponse(keyed, withoutSongIds(response));
      return answered(response);
    },
  }),

  defineRoute({
    key: "GET /playlists/featured",
    id: "listFeaturedPlaylists",
    tag: "featured",
    summary: "Featured playlists, for every signed-in user",
    description:
      "The featured playlists in creation order, a page at a time, for every signed-in user; a deleted one is never listed.",
    caller: "person",
    query: ListQuery,
    responses: { 200: { schema: "FeaturedPage" } },
    errors: ["invalid_cursor"],
    handler: async ({ query, caller, respond }) => {
      const page = await listFeatured(caller.sub, query.limit, query.cursor);
      return respond(200, { playlists: page.items, nextCursor: page.nextCursor });
    },
  }),

  defineRoute({
    key: "POST /playlists/featured",
    id: "createFeaturedPlaylist",
    tag: "featured",
    summary: "Create a featured playlist (playlist_editor role)",
    description:
      "Creates a featured playlist: holders of the playlist_editor role only (stored roles less denied_roles), within MAX_FEATURED_PER_EDITOR per editor; songIds are songs of the editor, each at most once. createdBy and updatedBy are the editor.",
    caller: "person",
    headers: idempotent,
    body: PlaylistBody,
    responses: { 201: { schema: "FeaturedPlaylist", headers: replayable } },
    errors: ["unknown_song", "missing_role", "quota_exceeded", "account_being_deleted"],
    notes: {
      unknown_song: "an id in songIds that is not one of the editor's (the caller's) songs",
      quota_exceeded: "the editor holds MAX_FEATURED_PER_EDITOR featured playlists",
    },
    example: { body: { name: "Editors' picks", songIds: [] } },
    handler: async ({ body, caller, request }) => {
      const editor = caller.sub;
      const playlist = newFeatured(body, editor);
      await requirePlaylistEditor(caller);
      const { response, checked } = await createWithSongs(
        request,
        playlist.songIds,
        jsonResponse(201, playlist),
        (extra) => putFeatured(playlist, maxFeaturedPerEditor, extra),
        `An editor holds at most ${maxFeaturedPerEditor} featured playlists (MAX_FEATURED_PER_EDITOR): delete one before adding more`,
      );
      if (!replayed(response)) {
        await settleSongIds(editor, checked, playlist);
        auditFeatured(request, "featured playlist created", playlist.playlistId);
      }
      return answered(response);
    },
  }),

  // Operators with update:featured may use client-credentials tokens on the featured edits;
  // every other route serves a signed-in user only.
  defineRoute({
    key: "PATCH /playlists/featured/{playlistId}",
    id: "updateFeaturedPlaylist",
    tag: "featured",
    summary: "Change a featured playlist (its editor, or update:featured)",
    description:
      "Changes a featured playlist: the editor who created it (playlist_editor role), or any with update:featured (another editor's: 403 not_featured_creator); songIds are songs of its creator, each at most once. updatedBy becomes the caller.",
    caller: "person-or-machine",
    params,
    body: PlaylistPatchBody,
    responses: { 200: { schema: "FeaturedPlaylist" } },
    errors: ["unknown_song", ...NOT_EDITOR, "account_being_deleted", "write_conflict"],
    notes: {
      unknown_song: "an id in songIds that is not one of its creator's songs",
      account_being_deleted: "the editor's own account",
      write_conflict: "under extreme contention (retry)",
    },
    example: { body: { name: "Editors' picks: winter" } },
    handler: async ({ body: changes, params, caller, request, respond }) => {
      const { playlistId } = params;
      const playlist = await changeFeatured(caller, playlistId, changes);
      auditFeatured(request, "featured playlist changed", playlistId, changes);
      return respond(200, playlist);
    },
  }),

  defineRoute({
    key: "DELETE /playlists/featured/{playlistId}",
    id: "deleteFeaturedPlaylist",
    tag: "featured",
    summary: "Delete a featured playlist (its editor, or update:featured)",
    description:
      "Deletes a featured playlist: the editor who created it, or any with update:featured. It leaves the list at once and its editor's quota, and an operator may restore it for 30 days.",
    caller: "person-or-machine",
    params,
    responses: { 204: {} },
    errors: [...NOT_EDITOR, "account_being_deleted", "write_conflict"],
    notes: {
      account_being_deleted: "the editor's own account",
      write_conflict: "under extreme contention (retry)",
    },
    handler: async ({ params, caller, request, respond }) => {
      const { playlistId } = params;
      await deleteFeatured(caller, playlistId);
      auditFeatured(request, "featured playlist deleted", playlistId);
      return respond(204, undefined);
    },
  }),

  defineRoute({
    key: "POST /playlists/featured/{playlistId}/restore",
    id: "restoreFeaturedPlaylist",
    tag: "featured",
    summary: "Restore a deleted featured playlist (update:featured)",
    description:
      "Puts a featured playlist deleted in the last 30 days back in the list, at its place in creation order: update:featured only. It counts against its editor's MAX_FEATURED_PER_EDITOR again; songs its editor deleted since are left out. Never deleted, or deleted over 30 days ago: 404.",
    caller: "person-or-machine",
    params,
    responses: { 200: { schema: "FeaturedPlaylist" } },
    errors: ["insufficient_scope", "quota_exceeded"],
    notes: { quota_exceeded: "its editor holds MAX_FEATURED_PER_EDITOR featured playlists" },
    handler: async ({ params, caller, request, respond }) => {
      const { playlistId } = params;
      const playlist = await restoreDeletedFeatured(caller, playlistId, maxFeaturedPerEditor);
      auditFeatured(request, "featured playlist restored", playlistId);
      return respond(200, playlist);
    },
  }),
];

export const handler = httpHandler(routes);
