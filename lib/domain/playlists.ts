/**
 * The changes of a playlist that must not lose another device's change (If-Match, and
 * addSongIds/removeSongIds as a read-modify-write conditional on the version read). The table
 * operations whose rules are conditions of their own writes (quotas, cooldowns) are called from
 * lib/db/playlists.ts and lib/db/featured.ts directly. 412s are Refused("precondition").
 */
import { getVersionedPlaylist, updatePlaylist, type VersionedPlaylist } from "../db/playlists.ts";
import { BadRequestError } from "../errors.ts";
import { Refused } from "../refusals.ts";
import { CONTENTION, retry } from "../retry.ts";
import type { PlaylistChanges } from "../schemas/library.ts";
import { checkSongIds, settleSongIds } from "./songs.ts";

/** A playlist holds at most this many songs (the schema's limit on songIds, after a change). */
const MAX_SONG_IDS = 500;

/** The list after adding `add` (at the end, never twice) and taking out `remove`. */
function changedList(current: string[], add: string[], remove: string[]): string[] {
  const removed = new Set(remove);
  const result = current.filter((id) => !removed.has(id));
  const present = new Set(result);
  for (const id of add) {
    if (!present.has(id) && !removed.has(id)) {
      present.add(id);
      result.push(id);
    }
  }
  return result;
}

/**
 * PATCH of a user's playlist. `ifMatch` (its versions, or `*`) makes it conditional: another
 * version is Refused("precondition"), atomically. songIds replace the list; addSongIds and
 * removeSongIds change the list read, written only if the version is still the one read (a lost
 * race reads again, under CONTENTION), so a concurrent change is never lost. Only the ids added
 * to the list read are checked as the owner's songs (400 unknown_song); at most 500 ids result.
 */
export async function changePlaylist(
  userId: string,
  playlistId: string,
  changes: PlaylistChanges,
  ifMatch: "*" | string[] | undefined,
): Promise<VersionedPlaylist | "not_found"> {
  const pinned = Array.isArray(ifMatch);
  const inPlace = changes.addSongIds !== undefined || changes.removeSongIds !== undefined;
  // A rename alone is written blind; a list is checked against the one read, so that only the
  // ids it adds are read from the songs table (a 500-id list resent with one more: one read).
  if (!inPlace && !pinned && changes.songIds === undefined) {
    const outcome = await updatePlaylist(userId, playlistId, changes);
    if (outcome === "precondition") throw new Refused(outcome);
    return outcome;
  }
  return retry(CONTENTION, async (_n, again) => {
    const current = await getVersionedPlaylist(userId, playlistId, true);
    if (!current) return "not_found";
    if (pinned && !ifMatch.includes(current.version)) throw new Refused("precondition");
    const before = current.playlist.songIds;
    const songIds = inPlace
      ? changedList(before, changes.addSongIds ?? [], changes.removeSongIds ?? [])
      : changes.songIds;
    if (songIds && songIds.length > MAX_SONG_IDS) {
      throw new BadRequestError(
        `A playlist holds at most ${MAX_SONG_IDS} songs: this change would make it ${songIds.length}`,
      );
    }
    const known = new Set(before);
    const checked = await checkSongIds(
      userId,
      (songIds ?? []).filter((id) => !known.has(id)),
    );
    const write = {
      ...(changes.name === undefined ? {} : { name: changes.name }),
      ...(songIds === undefined ? {} : { songIds }),
    };
    const outcome = await updatePlaylist(userId, playlistId, write, current.version);
    if (outcome === "not_found") return outcome;
    // Another write landed since the read: under If-Match that is a 412, else read again.
    if (outcome === "precondition") {
      if (pinned) throw new Refused("precondition");
      return again;
    }
    await settleSongIds(userId, checked, outcome.playlist);
    return outcome;
  });
}
