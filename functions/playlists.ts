import { config } from "../lib/config.ts";
import type { TransactItems } from "../lib/db/client.ts";
import { COUNTERS_TABLE, getUserCounters, userCounterKey } from "../lib/db/counters.ts";
import { deleteFeatured, listFeatured, putFeatured, updateFeatured } from "../lib/db/featured.ts";
import { getRecord } from "../lib/db/idempotency.ts";
import {
  addPlay,
  deletePlaylist,
  getPlaylist,
  listPlaylists,
  newPlaylist,
  putPlaylist,
  updatePlaylist,
} from "../lib/db/playlists.ts";
import { Refused, type WriteRefusal } from "../lib/db/refusals.ts";
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
import { PlaylistBody, PlaylistPatchBody, parse } from "../lib/schemas/index.ts";
import { warmContainer } from "../lib/warm-up.ts";

const { maxPlaylistsPerUser, playCooldownSeconds } = config();
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

/** The playlist as it is after a play; `plays`: the count a play answered first (a replay). */
async function playedResponse(userId: string, playlistId: string, plays?: number) {
  const playlist = await getPlaylist(userId, playlistId, true);
  if (!playlist) throw notFound();
  return jsonResponse(200, plays === undefined ? playlist : { ...playlist, plays });
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

await warmContainer(COUNTERS_TABLE, userCounterKey);

export const handler = httpHandler({
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
      await settleSongIds(userId, checked, playlist.playlistId, playlist.songIds);
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
    await settleSongIds(userId, checked, playlistId, playlist.songIds);
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
      // The record holds the count first answered, not the playlist: the replay reads it again.
      return replay(keyed, {
        rebuild: (stored) =>
          playedResponse(userId, playlistId, "plays" in stored ? stored.plays : undefined),
        recover: async () => ({
          status: 200,
          plays: (await getPlaylist(userId, playlistId, true))?.plays ?? 0,
        }),
      });
    }
    if (refused?.refusal === "not_found") throw notFound();
    if (refused?.refusal === "too_soon") {
      metric("PlaysRefused");
      return tooSoon(userId, refused.lastPlayAt);
    }
    if (refused) throw new Refused(refused.refusal);
    metric("PlaysCounted");
    const playlist = await getPlaylist(userId, playlistId, true);
    if (!playlist) throw notFound();
    if (keyed) await completeResponse(keyed, { status: 200, plays: playlist.plays });
    return jsonResponse(200, playlist);
  },

  "GET /playlists/featured": async ({ event, caller }) => {
    const { limit, cursor } = listQuery(event);
    const page = await listFeatured(caller.sub, limit, cursor);
    return jsonResponse(200, { playlists: page.items, nextCursor: page.nextCursor });
  },

  "POST /playlists/featured": async (request) => {
    const playlist = newPlaylist(parse(PlaylistBody, request.body), true);
    await requirePlaylistEditor(request.caller);
    const { response } = await createWithSongs(
      request,
      playlist.songIds,
      jsonResponse(201, playlist),
      (extra) => putFeatured(playlist, extra),
    );
    if (!replayed(response)) {
      auditFeatured(request, "featured playlist created", playlist.playlistId);
    }
    return response;
  },

  "PATCH /playlists/featured/{playlistId}": async (request) => {
    const changes = parse(PlaylistPatchBody, request.body);
    await requirePlaylistEditor(request.caller);
    const playlistId = playlistIdOf(request);
    await checkSongIds(request.caller.sub, changes.songIds ?? []);
    const playlist = await updateFeatured(playlistId, changes);
    if (!playlist) throw notFound();
    auditFeatured(request, "featured playlist changed", playlistId, changes);
    return jsonResponse(200, playlist);
  },

  "DELETE /playlists/featured/{playlistId}": async (request) => {
    await requirePlaylistEditor(request.caller);
    const playlistId = playlistIdOf(request);
    if (!(await deleteFeatured(playlistId))) throw notFound();
    auditFeatured(request, "featured playlist deleted", playlistId);
    return jsonResponse(204);
  },
});
