import { config } from "../lib/config.ts";
import { getSong, listSongs, newSong, putSong } from "../lib/db/songs.ts";
import { deleteSongEverywhere, SONGS_WARM_UP } from "../lib/domain/songs.ts";
import { NotFoundError } from "../lib/errors.ts";
import { httpHandler } from "../lib/http/handler.ts";
import { createOnce } from "../lib/http/idempotency.ts";
import { IdempotencyKey, SongId } from "../lib/http/params.ts";
import { jsonResponse } from "../lib/http/responses.ts";
import { answered, defineRoute } from "../lib/http/route.ts";
import { warmContainer } from "../lib/lambda/warm-up.ts";
import { SongBody } from "../lib/schemas/library.ts";
import { ListQuery } from "../lib/schemas/lists.ts";

const { maxSongsPerUser } = config();
const notFound = () => new NotFoundError("Song not found", "song_not_found");

export const routes = [
  defineRoute({
    key: "GET /songs",
    id: "listSongs",
    tag: "songs",
    summary: "The caller's songs, a page at a time",
    description:
      "The caller's songs in creation order, a page at a time; the last page has nextCursor null.",
    caller: "person",
    query: ListQuery,
    responses: { 200: { schema: "SongPage" } },
    errors: ["invalid_cursor"],
    example: { query: { limit: "25" } },
    handler: async ({ caller, query, respond }) => {
      const page = await listSongs(caller.sub, query.limit, query.cursor);
      return respond(200, { songs: page.items, nextCursor: page.nextCursor });
    },
  }),

  defineRoute({
    key: "POST /songs",
    id: "createSong",
    tag: "songs",
    summary: "Add a song",
    description:
      "Adds a song, within MAX_SONGS_PER_USER. With an Idempotency-Key, a retry answers the first response.",
    caller: "person",
    headers: { idempotencyKey: IdempotencyKey },
    body: SongBody,
    responses: { 201: { schema: "Song", headers: { "Idempotent-Replayed": "optional" } } },
    errors: ["quota_exceeded", "account_being_deleted"],
    notes: { quota_exceeded: "MAX_SONGS_PER_USER reached" },
    example: {
      body: { songName: "Number One Hit", genre: "pop" },
      headers: { "idempotency-key": "7f1c9a52-2f0e-4d1b-9a57-0c3c1d2e4b11" },
    },
    handler: async ({ body, caller, request }) => {
      const song = newSong(body);
      return answered(
        await createOnce(
          request,
          jsonResponse(201, song),
          (extra) => putSong(caller.sub, song, maxSongsPerUser, extra),
          `A user holds at most ${maxSongsPerUser} songs: delete some before adding more`,
        ),
      );
    },
  }),

  defineRoute({
    key: "GET /songs/{songId}",
    id: "getSong",
    tag: "songs",
    summary: "One of the caller's songs",
    description: "One of the caller's songs; another user's is not found.",
    caller: "person",
    params: { songId: SongId },
    responses: { 200: { schema: "Song" } },
    handler: async ({ params, caller, respond }) => {
      const song = await getSong(caller.sub, params.songId);
      if (!song) throw notFound();
      return respond(200, song);
    },
  }),

  // The song leaves the caller's playlists too, before the 204.
  defineRoute({
    key: "DELETE /songs/{songId}",
    id: "deleteSong",
    tag: "songs",
    summary: "Delete one of the caller's songs (and take it out of their playlists)",
    description:
      "Deletes one of the caller's songs, frees its place in the quota and takes it out of every playlist of the caller that lists it. A retry finishes a deletion that was interrupted.",
    caller: "person",
    params: { songId: SongId },
    responses: { 204: {} },
    handler: async ({ params, caller, respond }) => {
      if (!(await deleteSongEverywhere(caller.sub, params.songId))) throw notFound();
      return respond(204, undefined);
    },
  }),
];

await warmContainer(SONGS_WARM_UP);

export const handler = httpHandler(routes);
