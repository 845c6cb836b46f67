import { config } from "../lib/config.ts";
import { changeFeatured, deleteFeatured, restoreDeletedFeatured } from "../lib/domain/featured.ts";
import {
  addPlay,
  deletePlaylist,
  getPlaylist,
  getRecord,
  getUserCounters,
  listFeatured,
  listPlaylists,
  newFeatured,
  newPlaylist,
  putFeatured,
  putPlaylist,
  type TransactItems,
  updatePlaylist,
} from "../lib/domain/playlists.ts";
import { COUNTERS_WARM_UP } from "../lib/domain/plays.ts";
import { requirePlaylistEditor } from "../lib/domain/roles.ts";
import { checkSongIds, type SongsChecked, settleSongIds } from "../lib/domain/songs.ts";
import { NotFoundError, TooManyRequestsError } from "../lib/errors.ts";
import { httpHandler } from "../lib/http/handler.ts";
import {
  completeResponse,
  createOnce,
  keyedRequest,
  recordOf,
  replay,
} from "../lib/http/idempotency.ts";
import { itemId, listQuery } from "../lib/http/params.ts";
import { jsonResponse } from "../lib/http/responses.ts";
import type { HttpRequest, HttpResponse } from "../lib/http/types.ts";
import { audit } from "../lib/log.ts";
import { metric } from "../lib/metrics.ts";
import { Refused, type WriteRefusal } from "../lib/refusals.ts";
import { PlaylistBody, PlaylistPatchBody, parse } from "../lib/schemas/index.ts";
import { warmContainer } from "../lib/warm-up.ts";

const { maxPlaylistsPerUser, maxFeaturedPerEditor, playCooldownSeconds } = config();
const notFound = () => new NotFoundError("Playlist not found", "playlist_not_found");
const playlistIdOf = (request: HttpRequest) => itemId(request.event, "playlistId", "Playlist");

function auditFeatured(request: HttpRequest, action: string, playlistId: string, changed?: object) {
  audit(action, {
    actor: request.caller.sub,
    target: `featured:${playlistId}`,
    changed: changed ? Object.keys(changed).join(" ") : undefined,
    correlationId: request.correlationId,
    requestId: request.event.requestContext?.requestId,
  });
}

/** The playlist as it is after a play. */
async function playedResponse(userId: string, playlistId: string) {
  const playlist = await getPlaylist(userId, playlistId, true);
  if (!playlist) throw notFound();
  return jsonResponse(200, playlist);
}

async function tooSoon(userId: string, lastPlayAt: number | undefined): Promise<never> {
  const last = lastPlayAt ?? (await getUserCounters(userId, true)).lastPlayAt;
  const waitMs = last + playCooldownSeconds * 1000 - Date.now();
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
  write: (extra: TransactItems) => Promise<WriteRefusal | undefined>,
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

const replayed = (response: HttpResponse) => response.headers?.["Idempotent-Replayed"] === "true";

await warmContainer(COUNTERS_WARM_UP);

export const handler = httpHandler(
  {
    "GET /playlists": async ({ event, caller }) => {
      const { limit, cursor } = listQuery(event);
      const page = await listPlaylists(caller.sub, limit, cursor);
      return jsonResponse(200, { playlists: page.items, nextCursor: page.nextCursor });
    },

    "POST /playlists": async (request) => {
      const userId = request.caller.sub;
      const playlist = newPlaylist(parse(PlaylistBody, request.body), false);
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
      return response;
    },

    "GET /playlists/{playlistId}": async (request) => {
      const playlist = await getPlaylist(request.caller.sub, playlistIdOf(request));
      if (!playlist) throw notFound();
      return jsonResponse(200, playlist);
    },

    "PATCH /playlists/{playlistId}": async (request) => {
      const userId = request.caller.sub;
      const changes = parse(PlaylistPatchBody, request.body);
      const playlistId = playlistIdOf(request);
      const checked = await checkSongIds(userId, changes.songIds ?? []);
      const playlist = await updatePlaylist(userId, playlistId, changes);
      if (!playlist) throw notFound();
      await settleSongIds(userId, checked, playlist);
      return jsonResponse(200, playlist);
    },

    "DELETE /playlists/{playlistId}": async (request) => {
      if (!(await deletePlaylist(request.caller.sub, playlistIdOf(request)))) throw notFound();
      return jsonResponse(204);
    },

    // One play, counted once per cooldown and once per Idempotency-Key. The response (the playlist
    // as it now is) needs a read after the count, so the key's record gets it in a second step.
    "POST /playlists/{playlistId}/plays": async (request) => {
      const userId = request.caller.sub;
      const playlistId = playlistIdOf(request);
      const keyed = keyedRequest(request);
      const refused = await addPlay(userId, playlistId, playCooldownSeconds, recordOf(keyed));
      if (refused?.refusal === "duplicate_key" && keyed) {
        return replay(keyed, () => playedResponse(userId, playlistId));
      }
      if (refused?.refusal === "not_found") throw notFound();
      if (refused?.refusal === "too_soon") {
        metric("PlaysRefused");
        return tooSoon(userId, refused.lastPlayAt);
      }
      if (refused) throw new Refused(refused.refusal);
      metric("PlaysCounted");
      const response = await playedResponse(userId, playlistId);
      if (keyed) await completeResponse(keyed, response);
      return response;
    },

    "GET /playlists/featured": async ({ event, caller }) => {
      const { limit, cursor } = listQuery(event);
      const page = await listFeatured(caller.sub, limit, cursor);
      return jsonResponse(200, { playlists: page.items, nextCursor: page.nextCursor });
    },

    "POST /playlists/featured": async (request) => {
      const editor = request.caller.sub;
      const playlist = newFeatured(parse(PlaylistBody, request.body), editor);
      await requirePlaylistEditor(request.caller);
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
      return response;
    },

    "PATCH /playlists/featured/{playlistId}": async (request) => {
      const changes = parse(PlaylistPatchBody, request.body);
      const playlistId = playlistIdOf(request);
      const playlist = await changeFeatured(request.caller, playlistId, changes);
      auditFeatured(request, "featured playlist changed", playlistId, changes);
      return jsonResponse(200, playlist);
    },

    "DELETE /playlists/featured/{playlistId}": async (request) => {
      const playlistId = playlistIdOf(request);
      await deleteFeatured(request.caller, playlistId);
      auditFeatured(request, "featured playlist deleted", playlistId);
      return jsonResponse(204);
    },

    "POST /playlists/featured/{playlistId}/restore": async (request) => {
      const playlistId = playlistIdOf(request);
      const playlist = await restoreDeletedFeatured(
        request.caller,
        playlistId,
        maxFeaturedPerEditor,
      );
      auditFeatured(request, "featured playlist restored", playlistId);
      return jsonResponse(200, playlist);
    },
  },
  // Operators with update:featured may use client-credentials tokens on the featured edits;
  // every other route serves a signed-in user only.
  {
    machines: [
      "PATCH /playlists/featured/{playlistId}",
      "DELETE /playlists/featured/{playlistId}",
      "POST /playlists/featured/{playlistId}/restore",
    ],
  },
);
