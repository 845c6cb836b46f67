import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { WriteRefusal } from "../refusals.ts";
import { batchDelete, db, type NamedItems, transact } from "./client.ts";
import { deleteDeletionMarker, putDeletionMarker } from "./counters/deletion.ts";
import { deleteFeaturedCounter } from "./counters/featured.ts";
import { deletePlaylistCounter, playsOfMany } from "./counters/playlist-plays.ts";
import { deleteTombstone, putTombstone } from "./counters/tombstone.ts";
import {
  deleteUserCounters,
  eraseUserCounters,
  markUserDeleting,
  releaseCounts,
} from "./counters/user.ts";
import { partitionKey, type UserPartition } from "./pages.ts";
import { deletePlaylistItem, PLAYLISTS } from "./playlists.ts";
import type { IfVersion } from "./profile-item.ts";
import {
  deleteProfileItem,
  eraseProfileItem,
  getProfile,
  markProfileDeleting,
} from "./profiles.ts";
import { SONGS } from "./songs.ts";

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
  const refusal = await transact({
    profile: markProfileDeleting(userId, precondition, mustExist),
    counters: markUserDeleting(userId),
    marker: putDeletionMarker(userId),
  });
  if (!refusal) return undefined;
  // Only the profile has a condition: it is missing (operator) or fails the If-Match, which
  // is all it checks for the user themself (a profile never written has version 0).
  if (!mustExist) return "precondition";
  const stored = refusal.items.profile ?? (await getProfile(userId));
  return stored ? "precondition" : "not_found";
}

/** The ids of a user's items of `partition`, 100 at a time (consistent reads). */
async function* idPages({ table, sortKey }: UserPartition, userId: string) {
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: "user_id = :user",
        ExpressionAttributeValues: { ":user": userId },
        ProjectionExpression: sortKey,
        ConsistentRead: true,
        Limit: 100,
        ExclusiveStartKey,
      }),
    );
    ExclusiveStartKey = page.LastEvaluatedKey;
    if (page.Items?.length) yield page.Items.map((item) => item[sortKey] as string);
  } while (ExclusiveStartKey);
}

/** Songs go 25 per BatchWriteItem; their quota counter goes with the account at the end. */
export async function deleteAllSongs(userId: string): Promise<number> {
  let deleted = 0;
  for await (const ids of idPages(SONGS, userId)) {
    const batches = [];
    for (let i = 0; i < ids.length; i += 25) {
      const keys = ids.slice(i, i + 25).map((id) => partitionKey(SONGS, userId, id));
      batches.push(batchDelete(SONGS.table, keys));
    }
    await Promise.all(batches);
    deleted += ids.length;
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
  for await (const page of idPages(PLAYLISTS, userId)) {
    for (let i = 0; i < page.length; i += PLAYLISTS_PER_TRANSACTION) {
      const ids = page.slice(i, i + PLAYLISTS_PER_TRANSACTION);
      const counters = await playsOfMany(userId, ids, true);
      const plays = ids.reduce((sum, id) => sum + (counters.get(id) ?? 0), 0);
      await transact({
        ...Object.fromEntries(
          ids.flatMap((id) => [
            [`playlist ${id}`, deletePlaylistItem(userId, id)],
            [`plays ${id}`, deletePlaylistCounter(userId, id)],
          ]),
        ),
        counts: releaseCounts(userId, { playlists: ids.length, plays }),
      });
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
  await transact({
    profile: eraseProfileItem(userId),
    counters: eraseUserCounters(userId),
    featured: deleteFeaturedCounter(userId),
    tombstone: deniedRoles.length ? putTombstone(userId, deniedRoles) : deleteTombstone(userId),
  });
}

/**
 * The last step, once Auth0 has deleted the user: the marks and the marker go together, with
 * `together` (the cut-off of the user's tokens), so that the deletion is done exactly when its
 * tokens stop working.
 */
export async function finishAccountDeletion(userId: string, together: NamedItems): Promise<void> {
  await transact({
    ...together,
    profile: deleteProfileItem(userId),
    counters: deleteUserCounters(userId),
    marker: deleteDeletionMarker(userId),
  });
}

/** A deleted user with nothing stored: only `cutOff` (the cut-off of their tokens) is written. */
export async function cutOffOnly(cutOff: NamedItems): Promise<void> {
  await transact(cutOff);
}
