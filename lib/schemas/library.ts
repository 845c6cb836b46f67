/** Songs' and playlists' bodies: names, genres and a playlist's song ids. */
import * as z from "zod/mini";
import { Genre, text } from "./index.ts";

const SongName = text("songName", 200);
const PlaylistName = text("name", 100);
/**
 * A playlist's songs, in order, each at most once: ids of the owner's songs (checked against
 * the table by lib/domain/songs.ts, 400 unknown_song), never one twice.
 */
const SongIds = z
  .array(
    z.string("songIds must hold strings").check(z.minLength(1), z.maxLength(64)),
    "songIds must be an array of strings",
  )
  .check(
    z.maxLength(500, "songIds must hold at most 500 ids"),
    z.superRefine((ids, ctx) => {
      const seen = new Set<string>();
      for (const id of ids) {
        if (!seen.has(id)) {
          seen.add(id);
          continue;
        }
        ctx.addIssue({
          code: "custom",
          message: `songIds lists ${JSON.stringify(id)} more than once: a playlist holds each song once`,
        });
        return;
      }
    }),
  )
  .register(z.globalRegistry, { uniqueItems: true });

export const SongBody = z.strictObject({ songName: SongName, genre: Genre });
export const PlaylistBody = z.strictObject({ name: PlaylistName, songIds: z.optional(SongIds) });
export const PlaylistPatchBody = z
  .strictObject({
    name: z.optional(PlaylistName),
    songIds: z.optional(SongIds),
    // Changes of the list made in place, that never lose another device's change meanwhile.
    addSongIds: z.optional(SongIds),
    removeSongIds: z.optional(SongIds),
  })
  .check(
    z.refine(
      (body) =>
        body.name !== undefined ||
        body.songIds !== undefined ||
        body.addSongIds !== undefined ||
        body.removeSongIds !== undefined,
      "Send name, songIds, addSongIds or removeSongIds",
    ),
    z.refine(
      (body) =>
        body.songIds === undefined ||
        (body.addSongIds === undefined && body.removeSongIds === undefined),
      "Send songIds (the whole list) or addSongIds/removeSongIds (changes of it), not both",
    ),
  )
  // What the refinement says, for the document: a PATCH changes something.
  .register(z.globalRegistry, { minProperties: 1 });

/**
 * A play's body, optional: when it was played (ISO 8601 with a time zone), for a play made
 * without a network and sent later.
 */
export const PlayBody = z.strictObject({
  playedAt: z.optional(
    z.iso.datetime({
      offset: true,
      error: "playedAt must be an ISO 8601 time, e.g. 2026-05-01T12:00:00Z",
    }),
  ),
});

/** A playlist as a device writes it through sync: its name and its whole list. */
export const PlaylistFields = z.strictObject({ name: PlaylistName, songIds: SongIds });

export type SongInput = z.output<typeof SongBody>;
export type PlaylistInput = z.output<typeof PlaylistBody>;
export type PlaylistChanges = z.output<typeof PlaylistPatchBody>;
