import { config } from "../lib/config.ts";
import {
  deleteSongEverywhere,
  getSong,
  listSongs,
  putSong,
  SONGS_WARM_UP,
} from "../lib/domain/songs.ts";
import { NotFoundError } from "../lib/errors.ts";
import { httpHandler } from "../lib/http/handler.ts";
import { createOnce } from "../lib/http/idempotency.ts";
import { itemId, listQuery } from "../lib/http/params.ts";
import { jsonResponse } from "../lib/http/responses.ts";
import { newId } from "../lib/ids.ts";
import { parse, SongBody } from "../lib/schemas/index.ts";
import { warmContainer } from "../lib/warm-up.ts";

const { maxSongsPerUser } = config();
const notFound = () => new NotFoundError("Song not found", "song_not_found");

await warmContainer(SONGS_WARM_UP);

export const handler = httpHandler({
  "GET /songs": async ({ event, caller }) => {
    const { limit, cursor } = listQuery(event);
    const page = await listSongs(caller.sub, limit, cursor);
    return jsonResponse(200, { songs: page.items, nextCursor: page.nextCursor });
  },

  "POST /songs": async (request) => {
    const { songName, genre } = parse(SongBody, request.body);
    const song = { songId: newId(), songName, genre, createdAt: new Date().toISOString() };
    return createOnce(
      request,
      jsonResponse(201, song),
      (extra) => putSong(request.caller.sub, song, maxSongsPerUser, extra),
      `A user holds at most ${maxSongsPerUser} songs: delete some before adding more`,
    );
  },

  "GET /songs/{songId}": async ({ event, caller }) => {
    const song = await getSong(caller.sub, itemId(event, "songId", "Song"));
    if (!song) throw notFound();
    return jsonResponse(200, song);
  },

  // The song leaves the caller's playlists too, before the 204.
  "DELETE /songs/{songId}": async ({ event, caller }) => {
    const songId = itemId(event, "songId", "Song");
    if (!(await deleteSongEverywhere(caller.sub, songId))) throw notFound();
    return jsonResponse(204);
  },
});
