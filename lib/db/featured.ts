import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import { config } from "../config.ts";
import type { Playlist, PlaylistChanges } from "../schemas/index.ts";
import { db, deleteIfExists, type TransactItems, transact } from "./client.ts";
import { type Page, pageOf, type Read, startKey } from "./pages.ts";
import { type PlaylistItem, playlistFromItem, playlistItem, updateExisting } from "./playlists.ts";
import { refusalOf, type WriteRefusal } from "./refusals.ts";

/**
 * Featured playlists: editorial, owned by no user, readable by all. Their own table keyed by
 * `playlist_id` spreads them over partitions (no hot "featured" key) and keeps every user
 * partition of the playlists table purely that user's. They are never played: `plays` stays 0.
 */
export const FEATURED_TABLE = config().tables.featured;

/** Cursors of the shared list are bound to the caller all the same. */
const LIST = "featured";

const fromItem = (item: PlaylistItem) => playlistFromItem(item, item.plays ?? 0, true);

/** Stores a new featured playlist, with `extra` items (an idempotency record) or not at all. */
export async function putFeatured(
  playlist: Playlist,
  extra: TransactItems = [],
): Promise<WriteRefusal | undefined> {
  const refusal = await transact([
    {
      Put: {
        TableName: FEATURED_TABLE,
        Item: { ...playlistItem(playlist), plays: 0 },
        ConditionExpression: "attribute_not_exists(playlist_id)",
      },
    },
    ...extra,
  ]);
  return refusalOf(refusal, [undefined, "duplicate_key"]);
}

export async function updateFeatured(
  playlistId: string,
  changes: PlaylistChanges,
): Promise<Playlist | undefined> {
  const item = await updateExisting(FEATURED_TABLE, { playlist_id: playlistId }, changes);
  return item ? fromItem(item) : undefined;
}

/** Deletes a featured playlist; false when there was none. */
export function deleteFeatured(playlistId: string): Promise<boolean> {
  return deleteIfExists(FEATURED_TABLE, { playlist_id: playlistId });
}

/**
 * A scan: the featured set is small and curated; each page is one request, ended early where
 * DynamoDB's 1 MB stopped it (pageOf). Scan order is the table's, not creation order.
 */
export async function listFeatured(
  caller: string,
  limit: number,
  cursor: string | undefined,
): Promise<Page<Playlist>> {
  const read = await db.send(
    new ScanCommand({
      TableName: FEATURED_TABLE,
      Limit: limit + 1,
      ExclusiveStartKey: await startKey(LIST, caller, cursor, "playlist_id"),
    }),
  );
  return pageOf(LIST, caller, read as Read<PlaylistItem>, limit, "playlist_id", fromItem);
}
