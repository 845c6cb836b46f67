/**
 * A song's id taken out of playlists (users' or featured) once the song is deleted: which of the
 * user's playlists list it, and the removal itself, conditional on each position still holding it.
 */
import { QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { keyOf } from "../kinds/kind.ts";
import { PLAYLIST } from "../kinds/playlist.ts";
import { CONTENTION, retry } from "../retry.ts";
import { changeStamp } from "./changes.ts";
import { db } from "./client.ts";
import { isConditionFailure } from "./errors.ts";
import { PLAYLISTS_TABLE } from "./playlists.ts";

/** A playlist's id and songs, as a search for one song answers them. */
export interface PlaylistSongs {
  playlistId: string;
  songIds: string[];
}

/** The playlist_id and song_ids of a stored playlist (users' or featured), as PlaylistSongs. */
export function playlistSongsOf(item: Record<string, unknown>): PlaylistSongs {
  return {
    playlistId: item.playlist_id as string,
    songIds: (item.song_ids as string[] | undefined) ?? [],
  };
}

/**
 * The user's playlists that list `songId`, a page (at most 1 MB read) at a time. Every playlist of
 * the user is read (a filter saves the transfer, not the capacity): at most MAX_PLAYLISTS_PER_USER
 * items, about 15 kB each at 500 ids, so at most some 15 pages and 4,000 RCU (consistent reads:
 * a playlist written just before is seen).
 */
export async function* playlistsListing(userId: string, songId: string) {
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new QueryCommand({
        TableName: PLAYLISTS_TABLE,
        KeyConditionExpression: "user_id = :user",
        FilterExpression: "contains(song_ids, :song)",
        ProjectionExpression: "playlist_id, song_ids",
        ExpressionAttributeValues: { ":user": userId, ":song": songId },
        ConsistentRead: true,
        ExclusiveStartKey,
      }),
    );
    ExclusiveStartKey = page.LastEvaluatedKey;
    if (page.Items?.length) yield page.Items.map(playlistSongsOf);
  } while (ExclusiveStartKey);
}

/** List elements one UpdateItem removes at most: its condition names each (4 kB at most). */
const REMOVALS_PER_UPDATE = 100;

/**
 * Takes `songIds` out of a user's playlist, every occurrence, keeping the order of the rest.
 * `known` is what the list is believed to hold. Each removal is by position, conditional on the
 * position still holding that id: a playlist changed meanwhile answers its current list
 * (ALL_OLD), tried again. A playlist that is gone, or holds none of them, is left alone.
 */
export function removeSongs(
  userId: string,
  playlistId: string,
  songIds: ReadonlySet<string>,
  known: string[],
): Promise<void> {
  // The playlist's new state is a change sync delivers: each removal stamps it.
  return removeSongsFrom(
    PLAYLISTS_TABLE,
    keyOf(PLAYLIST, userId, playlistId),
    songIds,
    known,
    true,
  );
}

/** removeSongs on the playlist of `table` at `Key` (users' or featured). */
export async function removeSongsFrom(
  table: string,
  Key: Record<string, string>,
  songIds: ReadonlySet<string>,
  known: string[],
  stamped = false,
): Promise<void> {
  let current: string[] = known;
  // Each update takes out up to REMOVALS_PER_UPDATE ids: that is progress, not a retry (500 ids
  // are five updates); only an update that lost a race to another write is retried, with what
  // the refusal found stored (ALL_OLD). Worst case: ceil(ids / 100) updates plus CONTENTION's
  // retries for each.
  while (current.some((id) => songIds.has(id))) {
    current = await retry(CONTENTION, async (_n, again) => {
      const positions = current
        .flatMap((id, i) => (songIds.has(id) ? [i] : []))
        .slice(0, REMOVALS_PER_UPDATE);
      if (positions.length === 0) return current;
      const stamp = stamped ? changeStamp() : undefined;
      const values: Record<string, string> = {
        ":now": new Date().toISOString(),
        ...stamp?.values,
      };
      for (const [n, i] of positions.entries()) values[`:r${n}`] = current[i] as string;
      try {
        await db.send(
          new UpdateCommand({
            TableName: table,
            Key,
            UpdateExpression: `REMOVE ${positions.map((i) => `song_ids[${i}]`).join(", ")} SET updated_at = :now${stamp ? `, ${stamp.set}` : ""}`,
            ConditionExpression: [
              "attribute_exists(playlist_id)",
              ...positions.map((i, n) => `song_ids[${i}] = :r${n}`),
            ].join(" AND "),
            ExpressionAttributeValues: values,
            ReturnValuesOnConditionCheckFailure: "ALL_OLD",
          }),
        );
        const removed = new Set(positions);
        return current.filter((_, i) => !removed.has(i));
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        // The playlist changed (or is gone: nothing left to take out of it).
        const item = (error as { Item?: Parameters<typeof unmarshall>[0] }).Item;
        current = item ? ((unmarshall(item).song_ids as string[] | undefined) ?? []) : [];
        return current.some((id) => songIds.has(id)) ? again : current;
      }
    });
  }
}
