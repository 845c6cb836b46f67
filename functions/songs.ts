import { deleteSong, getSong, listSongs, putSong } from "../lib/db/songs.ts";
import { NotFoundError } from "../lib/http/errors.ts";
import { httpHandler } from "../lib/http/handler.ts";
import { createdResponse, jsonResponse } from "../lib/http/middleware.ts";
import { itemId, listQuery, newItemId } from "../lib/http/params.ts";
import { parse, SongBody } from "../lib/schemas/index.ts";

const notFound = () => new NotFoundError("Song not found", "song_not_found");

export const handler = httpHandler({
  "GET /songs": async ({ event, caller }) => {
    const { limit, cursor } = listQuery(event);
    const page = await listSongs(caller.sub, limit, cursor);
    return jsonResponse(200, { songs: page.items, nextCursor: page.nextCursor });
  },

  "POST /songs": async ({ event, caller, body }) => {
    const input = parse(SongBody, body);
    const { song, created } = await putSong(caller.sub, newItemId(event, caller.sub), input);
    return createdResponse(song, created);
  },

  "GET /songs/{songId}": async ({ event, caller }) => {
    const song = await getSong(caller.sub, itemId(event, "songId", "Song"));
    if (!song) throw notFound();
    return jsonResponse(200, song);
  },

  "DELETE /songs/{songId}": async ({ event, caller }) => {
    if (!(await deleteSong(caller.sub, itemId(event, "songId", "Song")))) throw notFound();
    return jsonResponse(204);
  },
});
