/**
 * The playlists function's routes called in process, as its tests call them: a new user,
 * playlists created, played and listed, and songs made through the songs function.
 */
import { handler as getPlaysHandler } from "../../functions/getPlays.ts";
import { handler } from "../../functions/playlists.ts";
import { handler as songsHandler } from "../../functions/songs.ts";
import { httpEvent, invoke } from "./invoke.ts";
import { tokenFor, uniqueUser } from "./tokens.ts";

export const user = () => tokenFor(uniqueUser());

export const create = (token: string, body: unknown, headers: Record<string, string> = {}) =>
  invoke(
    handler,
    httpEvent("createPlaylist", {
      token,
      body,
      headers: { "idempotency-key": null, ...headers },
    }),
  );
export const createPlaylist = async (token: string, name = "Road trip") =>
  (await create(token, { name })).body;
export const withId = (fixture: string, token: string, playlistId: string, body?: unknown) =>
  invoke(
    handler,
    httpEvent(fixture, {
      token,
      pathParameters: { playlistId },
      ...(body === undefined ? {} : { body }),
    }),
  );
export const play = (token: string, playlistId: string) =>
  withId("playPlaylist", token, playlistId);
export const list = (token: string, query: Record<string, string> = {}) =>
  invoke(handler, httpEvent("listPlaylists", { token, query }));
/** `count` new songs of the caller's, made through the songs function; answers their ids. */
export async function newSongs(token: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const song = await invoke(
      songsHandler,
      httpEvent("createSong", {
        token,
        body: { songName: `Song ${i}`, genre: "pop" },
        headers: { "idempotency-key": null },
      }),
    );
    ids.push(song.body.songId);
  }
  return ids;
}
export const newSong = async (token: string) => (await newSongs(token, 1))[0] as string;
export const totalPlays = async (token: string) =>
  (await invoke(getPlaysHandler, httpEvent("getTotalPlays", { token }))).body.plays;
