import { PutCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { config } from "../config.ts";
import { db, deleteIfExists } from "./client.ts";
import { nextCursor, type Page, startKey } from "./pages.ts";
import {
  newPlaylistItem,
  type Playlist,
  type PlaylistChanges,
  type PlaylistInput,
  type PlaylistItem,
  playlistFromItem,
  updateExisting,
} from "./playlists.ts";

/**
 * Featured playlists: editorial, owned by no user, readable by all. Their own table keyed by
 * `playlist_id` spreads them over partitions (no hot "featured" key) and keeps every user
 * partition of the playlists table purely that user's.
 */
export const FEATURED_TABLE = config().tables.featured;

/** Cursors of the shared list are bound to the caller all the same. */
const LIST = "featured";

export async function createFeatured(playlistId: string, input: PlaylistInput): Promise<Playlist> {
  const item = newPlaylistItem(playlistId, input);
  await db.send(
    new PutCommand({
      TableName: FEATURED_TABLE,
      Item: item,
      ConditionExpression: "attribute_not_exists(playlist_id)",
    }),
  );
  return playlistFromItem(item, true);
}

export function updateFeatured(
  playlistId: string,
  changes: PlaylistChanges,
): Promise<Playlist | undefined> {
  return updateExisting(FEATURED_TABLE, { playlist_id: playlistId }, changes, true);
}

export function deleteFeatured(playlistId: string): Promise<boolean> {
  return deleteIfExists(FEATURED_TABLE, { playlist_id: playlistId });
}

/** A scan: the featured set is small and curated; each page is one request. */
export async function listFeatured(
  caller: string,
  limit: number,
  cursor: string | undefined,
): Promise<Page<Playlist>> {
  const { Items, LastEvaluatedKey } = await db.send(
    new ScanCommand({
      TableName: FEATURED_TABLE,
      Limit: limit,
      ExclusiveStartKey: startKey(LIST, caller, cursor, "playlist_id"),
    }),
  );
  return {
    items: (Items ?? []).map((item) => playlistFromItem(item as PlaylistItem, true)),
    nextCursor: nextCursor(LIST, caller, LastEvaluatedKey, "playlist_id"),
  };
}
