import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { WriteRefusal } from "../refusals.ts";
import { batchDelete, db, transact } from "./client.ts";
import {
  deleteDeletionMarker,
  deleteFeaturedCounter,
  deletePlaylistCounter,
  deleteTombstone,
  deleteUserCounters,
  eraseUserCounters,
  markUserDeleting,
  putDeletionMarker,
  putTombstone,
  releaseCounts,
} from "./counters.ts";
import { PLAYLISTS_TABLE, playsOfMany } from "./playlists.ts";
import {
  deleteProfileItem,
  eraseProfileItem,
  getProfile,
  type IfVersion,
  markProfileDeleting,
} from "./profiles.ts";
import { SONGS_TABLE } from "./songs.ts";

/**
 * Erasing a user. First one transaction marks the profile and the counters as being deleted and
 * writes the deletion marker, checking If-Match atomically: from then on every write to the
 * account is refused, so nothing can race the purge. Then the purge, page by page; each step
 * leaves the data consistent, and a repeated DELETE finishes what a failed one left.
 */
export async function markAccountDeleting(
  userId: string,
  precondition: IfVersion | undefined,
  mustExist: boolean,
): Promise<WriteRefusal | undefined> {
  const refusal = await transact([
    markProfileDeleting(userId, precondition, mustExist),
    markUserDeleting(userId),
    putDeletionMarker(userId),
  ]);
  if (!refusal) return undefined;
  // The profile refused: it is missing (operator) or its version fails the If-Match.
  const stored = refusal.items[0] ?? (await getProfile(userId));
  return stored ? "precondition" : "not_found";
}

async function* keyPages(table: string, sortKey: string, userId: string, extra: string[] = []) {
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: "user_id = :user",
        ExpressionAttributeValues: { ":user": userId },
        ProjectionExpression: ["user_id", sortKey, ...extra].join(", "),
        ConsistentRead: true,
        Limit: 100,
        ExclusiveStartKey,
      }),
    );
    ExclusiveStartKey = page.LastEvaluatedKey;
    if (page.Items?.length) yield page.Items;
  } while (ExclusiveStartKey);
}

/** Songs go 25 per BatchWriteItem; their quota counter goes with the account at the end. */
export async function deleteAllSongs(userId: string): Promise<number> {
  let deleted = 0;
  for await (const items of keyPages(SONGS_TABLE, "song_id", userId)) {
    const batches = [];
    for (let i = 0; i < items.length; i += 25) {
      const keys = items
        .slice(i, i + 25)
        .map((item) => ({ user_id: userId, song_id: item.song_id }));
      batches.push(batchDelete(SONGS_TABLE, keys));
    }
    await Promise.all(batches);
    deleted += items.length;
  }
  return deleted;
}

/** Playlists per transaction: each takes its counter along, and one total update (≤ 100). */
const PLAYLISTS_PER_TRANSACTION = 49;

/**
 * Deletes the playlists with their counters, each batch in one transaction with the matching
 * decrement of the user's total, so the total always equals the plays that remain. No play can
 * land meanwhile: the account is marked as being deleted.
 */
export async function deleteAllPlaylists(userId: string): Promise<number> {
  let deleted = 0;
  for await (const items of keyPages(PLAYLISTS_TABLE, "playlist_id", userId)) {
    for (let i = 0; i < items.length; i += PLAYLISTS_PER_TRANSACTION) {
      const ids = items
        .slice(i, i + PLAYLISTS_PER_TRANSACTION)
        .map((item) => item.playlist_id as string);
      const counters = await playsOfMany(userId, ids, true);
      const plays = ids.reduce((sum, id) => sum + (counters.get(id) ?? 0), 0);
      await transact([
        ...ids.flatMap((id) => [
          { Delete: { TableName: PLAYLISTS_TABLE, Key: { user_id: userId, playlist_id: id } } },
          deletePlaylistCounter(userId, id),
        ]),
        releaseCounts(userId, { playlists: ids.length, plays }),
      ]);
      deleted += ids.length;
    }
  }
  return deleted;
}

/**
 * After the purge: the profile and the user counter are erased together, down to their
 * `deleting` marks (every write stays refused while the Auth0 user is deleted), the editor's
 * featured quota goes, and the roles an operator denied stay behind in a tombstone
 * (`deniedRoles`, read from the profile before it goes); with none, no tombstone of an earlier
 * account stays either.
 */
export async function deleteProfileAndCounters(
  userId: string,
  deniedRoles: readonly string[],
): Promise<void> {
  await transact([
    eraseProfileItem(userId),
    eraseUserCounters(userId),
    deleteFeaturedCounter(userId),
    deniedRoles.length ? putTombstone(userId, deniedRoles) : deleteTombstone(userId),
  ]);
}

/** The last step, once Auth0 has deleted the user: the marks and the marker go together. */
export async function finishAccountDeletion(userId: string): Promise<void> {
  await transact([
    deleteProfileItem(userId),
    deleteUserCounters(userId),
    deleteDeletionMarker(userId),
  ]);
}
