import { getUserCounters, songRemoved } from "../db/counters/user.ts";
import { editorFeaturedListing, removeFeaturedSongs } from "../db/featured.ts";
import { playlistsListing, removeSongs } from "../db/playlist-songs.ts";
import { deleteSong, SONGS_TABLE, songKey, songsOf } from "../db/songs.ts";
import { BadRequestError } from "../errors.ts";
import type { WarmUpTarget } from "../lambda/warm-up.ts";

/**
 * A playlist's songIds name songs of its owner (featured playlists: of their editor), and a
 * song's deletion takes it out of the owner's playlists.
 *
 * A check and the write after it are not one atomic step, and a song may be deleted in between.
 * The deletion counts itself (`songDeletions`, in the same transaction as the song's delete)
 * before it looks for the playlists that list the song. So a writer reads that count before its
 * check and again after its write (settleSongIds): unchanged, any deletion since the check came
 * after the write, and its search finds the playlist; changed, the writer looks again and takes
 * out what went. Either way no playlist keeps a deleted song.
 */

/** The songs table, for a function's init warm-up. */
export const SONGS_WARM_UP: WarmUpTarget = {
  table: SONGS_TABLE,
  keyOf: (subject) => songKey(subject, subject),
};

/** What a check saw, for settleSongIds after the write. */
export interface SongsChecked {
  songDeletions: number;
}

/**
 * Checks that every id of `songIds` is one of `owner`'s songs, else 400 unknown_song naming the
 * first unknown id; nothing to check without ids. Costs one small consistent GetItem and one
 * consistent BatchGetItem per 100 ids (500 ids: 5, side by side; 1 RCU per song).
 */
export async function checkSongIds(
  owner: string,
  songIds: string[],
): Promise<SongsChecked | undefined> {
  if (songIds.length === 0) return undefined;
  const { songDeletions } = await getUserCounters(owner, true);
  const songs = await songsOf(owner, songIds);
  const unknown = songIds.filter((id) => !songs.has(id));
  const [first] = unknown;
  if (first !== undefined) {
    const others = unknown.length > 1 ? ` (${unknown.length} of the ids are not)` : "";
    throw new BadRequestError(
      `songIds[${songIds.indexOf(first)}]: ${JSON.stringify(first)} is not one of your songs${others}: ` +
        "add it with POST /songs first, or leave it out",
      "unknown_song",
    );
  }
  return { songDeletions };
}

/**
 * The ids of `songIds` that are still songs of `owner`, in order, for a playlist put back as it
 * was (a restored featured playlist), with what settleSongIds needs after the write.
 */
export async function songIdsKept(
  owner: string,
  songIds: string[],
): Promise<{ songIds: string[]; checked?: SongsChecked }> {
  if (songIds.length === 0) return { songIds };
  const { songDeletions } = await getUserCounters(owner, true);
  const songs = await songsOf(owner, songIds);
  return { songIds: songIds.filter((id) => songs.has(id)), checked: { songDeletions } };
}

/** The playlist a settleSongIds is about: one of the owner's, or a featured one they created. */
export interface WrittenPlaylist {
  playlistId: string;
  songIds: string[];
  featured: boolean;
}

/**
 * After a playlist of `owner` (theirs, or featured and created by them) was written with its
 * songIds (checked by checkSongIds): when a song deletion happened since the check, takes any
 * song that is gone out of the playlist. Costs one small consistent GetItem; the rare race costs
 * the song check again and one UpdateItem.
 */
export async function settleSongIds(
  owner: string,
  checked: SongsChecked | undefined,
  playlist: WrittenPlaylist,
): Promise<void> {
  if (!checked) return;
  const { songDeletions } = await getUserCounters(owner, true);
  if (songDeletions === checked.songDeletions) return;
  const { playlistId, songIds } = playlist;
  const songs = await songsOf(owner, songIds);
  const gone = new Set(songIds.filter((id) => !songs.has(id)));
  if (gone.size === 0) return;
  if (playlist.featured) await removeFeaturedSongs(playlistId, gone, songIds);
  else await removeSongs(owner, playlistId, gone, songIds);
}

/** Playlists updated side by side while a deletion takes a song out of them. */
const PARALLEL_UPDATES = 25;

/**
 * Deletes the owner's song and takes it out of every playlist of theirs that lists it, and of
 * every featured playlist they created; false when there is no such song. A deletion
 * interrupted part way (its song gone, its id still marked in the user's counters) is finished
 * by the next DELETE of the same song. Costs the transaction, a search of the owner's playlists
 * (one Query per MB of them: at most about 15 at the quotas), one GetItem and one BatchGetItem
 * for their featured playlists (at most MAX_FEATURED_PER_EDITOR), and one UpdateItem per
 * playlist that lists the song.
 */
export async function deleteSongEverywhere(owner: string, songId: string): Promise<boolean> {
  if (!(await deleteSong(owner, songId))) {
    const { removingSongs } = await getUserCounters(owner, true);
    if (!removingSongs.includes(songId)) return false;
  }
  const gone = new Set([songId]);
  for await (const playlists of playlistsListing(owner, songId)) {
    for (let i = 0; i < playlists.length; i += PARALLEL_UPDATES) {
      await Promise.all(
        playlists
          .slice(i, i + PARALLEL_UPDATES)
          .map((p) => removeSongs(owner, p.playlistId, gone, p.songIds)),
      );
    }
  }
  const featured = await editorFeaturedListing(owner, songId);
  for (let i = 0; i < featured.length; i += PARALLEL_UPDATES) {
    await Promise.all(
      featured
        .slice(i, i + PARALLEL_UPDATES)
        .map((p) => removeFeaturedSongs(p.playlistId, gone, p.songIds)),
    );
  }
  await songRemoved(owner, songId);
  return true;
}
