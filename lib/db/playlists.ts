import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { config } from "../config.ts";
import { ConflictError, NotFoundError } from "../http/errors.ts";
import { db, existingItemOf, transact } from "./client.ts";
import { isConditionFailure, transactionConditionFailures } from "./errors.ts";
import { type Page, userPartitionPage } from "./pages.ts";
import { addPlaysToTotal } from "./profiles.ts";

/**
 * The playlists table: partition `user_id`, sort `playlist_id`. Each playlist's `plays` and the
 * owner's `total_plays` on the profile move together, in one transaction.
 */
export const PLAYLISTS_TABLE = config().tables.playlists;

export interface Playlist {
  playlistId: string;
  name: string;
  songIds: string[];
  plays: number;
  featured: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface PlaylistItem {
  user_id?: string;
  playlist_id: string;
  name: string;
  song_ids: string[];
  plays: number;
  created_at: string;
  updated_at: string;
}

export interface PlaylistInput {
  name: string;
  songIds: string[];
}

export interface PlaylistChanges {
  name?: string | undefined;
  songIds?: string[] | undefined;
}

const key = (userId: string, playlistId: string) => ({ user_id: userId, playlist_id: playlistId });

export function playlistFromItem(item: PlaylistItem, featured: boolean): Playlist {
  return {
    playlistId: item.playlist_id,
    name: item.name,
    songIds: item.song_ids ?? [],
    plays: item.plays ?? 0,
    featured,
    createdAt: item.created_at,
    updatedAt: item.updated_at,
  };
}

export function newPlaylistItem(playlistId: string, input: PlaylistInput): PlaylistItem {
  const now = new Date().toISOString();
  return {
    playlist_id: playlistId,
    name: input.name,
    song_ids: input.songIds,
    plays: 0,
    created_at: now,
    updated_at: now,
  };
}

/** SET clauses for a partial update, shared by user and featured playlists. */
export function playlistUpdate(changes: PlaylistChanges) {
  const sets = ["updated_at = :now"];
  const values: Record<string, unknown> = { ":now": new Date().toISOString() };
  // `name` is a DynamoDB reserved word: it needs a placeholder, declared only when used.
  const names: Record<string, string> = {};
  if (changes.name !== undefined) {
    sets.push("#name = :name");
    names["#name"] = "name";
    values[":name"] = changes.name;
  }
  if (changes.songIds !== undefined) {
    sets.push("song_ids = :songIds");
    values[":songIds"] = changes.songIds;
  }
  return {
    UpdateExpression: `SET ${sets.join(", ")}`,
    ...(changes.name !== undefined ? { ExpressionAttributeNames: names } : {}),
    ExpressionAttributeValues: values,
  };
}

/** Creates the playlist, or answers the stored one when its id exists (a retried Idempotency-Key). */
export async function putPlaylist(
  userId: string,
  playlistId: string,
  input: PlaylistInput,
): Promise<{ playlist: Playlist; created: boolean }> {
  const item = { ...newPlaylistItem(playlistId, input), user_id: userId };
  try {
    await db.send(
      new PutCommand({
        TableName: PLAYLISTS_TABLE,
        Item: item,
        ConditionExpression: "attribute_not_exists(playlist_id)",
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      }),
    );
    return { playlist: playlistFromItem(item, false), created: true };
  } catch (error) {
    const existing = existingItemOf<PlaylistItem>(error);
    if (existing) return { playlist: playlistFromItem(existing, false), created: false };
    throw error;
  }
}

export async function getPlaylist(
  userId: string,
  playlistId: string,
  consistent = false,
): Promise<Playlist | undefined> {
  const { Item } = await db.send(
    new GetCommand({
      TableName: PLAYLISTS_TABLE,
      Key: key(userId, playlistId),
      ConsistentRead: consistent,
    }),
  );
  return Item ? playlistFromItem(Item as PlaylistItem, false) : undefined;
}

/** Changes an existing playlist of `table` (users' or featured); undefined when there is none. */
export async function updateExisting(
  table: string,
  Key: Record<string, string>,
  changes: PlaylistChanges,
  featured: boolean,
): Promise<Playlist | undefined> {
  try {
    const { Attributes } = await db.send(
      new UpdateCommand({
        TableName: table,
        Key,
        ...playlistUpdate(changes),
        ConditionExpression: "attribute_exists(playlist_id)",
        ReturnValues: "ALL_NEW",
      }),
    );
    return playlistFromItem(Attributes as PlaylistItem, featured);
  } catch (error) {
    if (isConditionFailure(error)) return undefined;
    throw error;
  }
}

export function updatePlaylist(
  userId: string,
  playlistId: string,
  changes: PlaylistChanges,
): Promise<Playlist | undefined> {
  return updateExisting(PLAYLISTS_TABLE, key(userId, playlistId), changes, false);
}

export const NOT_FOUND = () => new NotFoundError("Playlist not found", "playlist_not_found");

/**
 * One play: the playlist's count and the owner's total rise together in one transaction, so a
 * crash or a concurrent request can never leave them apart. Then one consistent read answers
 * the playlist as it now is.
 */
export async function addPlay(userId: string, playlistId: string): Promise<Playlist> {
  try {
    await transact([
      {
        Update: {
          TableName: PLAYLISTS_TABLE,
          Key: key(userId, playlistId),
          UpdateExpression: "ADD plays :one",
          ConditionExpression: "attribute_exists(playlist_id)",
          ExpressionAttributeValues: { ":one": 1 },
        },
      },
      addPlaysToTotal(userId, 1),
    ]);
  } catch (error) {
    if (transactionConditionFailures(error)?.[0]) throw NOT_FOUND();
    throw error;
  }
  const playlist = await getPlaylist(userId, playlistId, true);
  if (!playlist) throw NOT_FOUND();
  return playlist;
}

const MAX_DELETE_ATTEMPTS = 10;

/**
 * Deletes the playlist and lowers the owner's total by its plays, atomically: the delete is
 * conditional on the plays read just before, and retried if a play landed in between.
 */
export async function deletePlaylist(userId: string, playlistId: string): Promise<boolean> {
  for (let attempt = 0; attempt < MAX_DELETE_ATTEMPTS; attempt++) {
    const playlist = await getPlaylist(userId, playlistId, true);
    if (!playlist) return false;
    try {
      if (playlist.plays === 0) {
        await db.send(
          new DeleteCommand({
            TableName: PLAYLISTS_TABLE,
            Key: key(userId, playlistId),
            ConditionExpression:
              "attribute_exists(playlist_id) AND (attribute_not_exists(plays) OR plays = :zero)",
            ExpressionAttributeValues: { ":zero": 0 },
          }),
        );
      } else {
        await transact([
          {
            Delete: {
              TableName: PLAYLISTS_TABLE,
              Key: key(userId, playlistId),
              ConditionExpression: "plays = :plays",
              ExpressionAttributeValues: { ":plays": playlist.plays },
            },
          },
          addPlaysToTotal(userId, -playlist.plays),
        ]);
      }
      return true;
    } catch (error) {
      if (!isConditionFailure(error) && !transactionConditionFailures(error)?.[0]) throw error;
    }
  }
  throw new ConflictError(
    "The playlist is being played right now; retry the delete",
    "write_conflict",
  );
}

export function listPlaylists(
  userId: string,
  limit: number,
  cursor: string | undefined,
): Promise<Page<Playlist>> {
  const playlists = {
    table: PLAYLISTS_TABLE,
    name: "playlists",
    sortKey: "playlist_id",
    fromItem: (item: PlaylistItem) => playlistFromItem(item, false),
  };
  return userPartitionPage(playlists, userId, limit, cursor);
}
