/**
 * The user counter (`counter_id: "user"`): the user's songs and playlists (quotas), total plays,
 * `first_seen_at` (the first create or play, or the user's first read of a profile with nothing
 * stored: the user object's created_at when that is earlier than the profile's), `deleting` while
 * the account is being erased, and for song deletions `song_deletions` (how many ever, so that a
 * playlist write can tell one raced it) and `removing_songs` (the ids still being taken out of the
 * user's playlists).
 */
import { GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { COUNTERS } from "../../kinds/counters.ts";
import { keyOf } from "../../kinds/kind.ts";
import { db, type TableRead } from "../client.ts";
import { isConditionFailure } from "../errors.ts";
import { deletionMarkerKey } from "./deletion.ts";
import { COUNTERS_TABLE } from "./table.ts";
import { tombstoneDeniedRoles, tombstoneKey } from "./tombstone.ts";

export const userCounterKey = (userId: string) => keyOf(COUNTERS, userId, "user");

export interface UserCounters {
  songs: number;
  playlists: number;
  totalPlays: number;
  deleting: boolean;
  /** Songs ever deleted: grows with each deletion, never shrinks. */
  songDeletions: number;
  /** Deleted songs whose ids may still be in some of the user's playlists. */
  removingSongs: string[];
}

interface UserCounterItem {
  songs?: number;
  playlists?: number;
  total_plays?: number;
  deleting?: boolean;
  song_deletions?: number;
  removing_songs?: Set<string>;
}

function userCountersOf(item: UserCounterItem | undefined): UserCounters {
  return {
    songs: item?.songs ?? 0,
    playlists: item?.playlists ?? 0,
    totalPlays: item?.total_plays ?? 0,
    deleting: item?.deleting === true,
    songDeletions: item?.song_deletions ?? 0,
    removingSongs: [...(item?.removing_songs ?? [])],
  };
}

export async function getUserCounters(userId: string, consistent = false): Promise<UserCounters> {
  const { Item } = await db.send(
    new GetCommand({
      TableName: COUNTERS_TABLE,
      Key: userCounterKey(userId),
      ConsistentRead: consistent,
    }),
  );
  return userCountersOf(Item as UserCounterItem | undefined);
}

export const NOT_DELETING = "attribute_not_exists(deleting)";
/** Kept from the first write of the user counter that stamps it (a create, a play). */
export const FIRST_SEEN = "first_seen_at = if_not_exists(first_seen_at, :seen)";

/** When the API first saw the user, from their counter item, if it says. */
function firstSeenOf(item: Record<string, unknown> | undefined): string | undefined {
  return typeof item?.first_seen_at === "string" ? item.first_seen_at : undefined;
}

/**
 * A signed-in user reading a profile with nothing stored anywhere: this is when the API first
 * sees them, kept so that created_at reads the same ever after. Answers the time kept, or
 * undefined while the account is being erased (nothing is written then).
 */
export async function stampFirstSeen(userId: string): Promise<string | undefined> {
  try {
    const { Attributes } = await db.send(
      new UpdateCommand({
        TableName: COUNTERS_TABLE,
        Key: userCounterKey(userId),
        UpdateExpression: `SET ${FIRST_SEEN}`,
        ConditionExpression: NOT_DELETING,
        ExpressionAttributeValues: { ":seen": new Date().toISOString() },
        ReturnValues: "ALL_NEW",
      }),
    );
    return firstSeenOf(Attributes);
  } catch (error) {
    if (isConditionFailure(error)) return undefined;
    throw error;
  }
}

export type Quota = "songs" | "playlists";

/** Transaction item: one more song or playlist, refused at `max` or while the account goes. */
export function takeQuota(userId: string, quota: Quota, max: number) {
  return {
    Update: {
      TableName: COUNTERS_TABLE,
      Key: userCounterKey(userId),
      UpdateExpression: `ADD #quota :one SET ${FIRST_SEEN}`,
      ConditionExpression: `${NOT_DELETING} AND (attribute_not_exists(#quota) OR #quota < :max)`,
      ExpressionAttributeNames: { "#quota": quota },
      ExpressionAttributeValues: { ":one": 1, ":max": max, ":seen": new Date().toISOString() },
      ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const,
    },
  };
}

/** Transaction item: gives back quota and plays of removed items. */
export function releaseCounts(
  userId: string,
  changes: { songs?: number; playlists?: number; plays?: number },
) {
  const adds: string[] = [];
  const values: Record<string, number> = {};
  if (changes.songs) {
    adds.push("songs :songs");
    values[":songs"] = -changes.songs;
  }
  if (changes.playlists) {
    adds.push("playlists :playlists");
    values[":playlists"] = -changes.playlists;
  }
  if (changes.plays) {
    adds.push("total_plays :plays");
    values[":plays"] = -changes.plays;
  }
  return {
    Update: {
      TableName: COUNTERS_TABLE,
      Key: userCounterKey(userId),
      UpdateExpression: `ADD ${adds.join(", ")}`,
      ExpressionAttributeValues: values,
    },
  };
}

/**
 * Transaction item: a song deleted. Its place in the quota goes back, the deletion is counted,
 * and its id is marked as still to be taken out of the user's playlists (songRemoved unmarks it).
 */
export function songDeleted(userId: string, songId: string) {
  return {
    Update: {
      TableName: COUNTERS_TABLE,
      Key: userCounterKey(userId),
      UpdateExpression: "ADD songs :minus, song_deletions :one, removing_songs :song",
      ExpressionAttributeValues: { ":minus": -1, ":one": 1, ":song": new Set([songId]) },
    },
  };
}

/** The song's id is out of every playlist of the user: the mark songDeleted set goes. */
export async function songRemoved(userId: string, songId: string): Promise<void> {
  try {
    await db.send(
      new UpdateCommand({
        TableName: COUNTERS_TABLE,
        Key: userCounterKey(userId),
        UpdateExpression: "DELETE removing_songs :song",
        // The account's deletion may have taken the counters away: never create them again.
        ConditionExpression: `attribute_exists(${COUNTERS.sortKey})`,
        ExpressionAttributeValues: { ":song": new Set([songId]) },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}

/** Transaction item: marks the account as being deleted: creates and plays are refused. */
export function markUserDeleting(userId: string) {
  return {
    Update: {
      TableName: COUNTERS_TABLE,
      Key: userCounterKey(userId),
      UpdateExpression: "SET deleting = :true",
      ExpressionAttributeValues: { ":true": true },
    },
  };
}

/**
 * Transaction item: the user's account is not being deleted. Refused, its ALL_OLD item says
 * `deleting` (refusalOf: "deleting", 409 account_being_deleted).
 */
export function userNotDeleting(userId: string) {
  return {
    ConditionCheck: {
      TableName: COUNTERS_TABLE,
      Key: userCounterKey(userId),
      ConditionExpression: NOT_DELETING,
      ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const,
    },
  };
}

export function deleteUserCounters(userId: string) {
  return { Delete: { TableName: COUNTERS_TABLE, Key: userCounterKey(userId) } };
}

/**
 * Transaction item: the user counter erased but still marked, so that every create and play
 * stays refused (409 account_being_deleted) until the deletion's last step removes it.
 */
export function eraseUserCounters(userId: string) {
  return {
    Put: { TableName: COUNTERS_TABLE, Item: { ...userCounterKey(userId), deleting: true } },
  };
}

/** When the API first saw the user: their counter item, read with other tables' items. */
export function firstSeenRead(userId: string): TableRead<string | undefined> {
  return {
    table: COUNTERS_TABLE,
    keys: [userCounterKey(userId)],
    consistent: true,
    found: (items) => firstSeenOf(items[0]),
  };
}

/** What the counters table knows of a user, beside their profile. */
export interface UserState {
  counters: UserCounters;
  /** When the API first saw the user without a profile. */
  firstSeenAt: string | undefined;
  /** The roles an operator denied an erased account of this user id (its tombstone). */
  inheritedDeniedRoles: string[];
  /** A deletion of the account was begun and is not finished. */
  beingDeleted: boolean;
}

/**
 * The keys of the counter items whose presence means the API has seen the user: their counter
 * (songs, playlists, plays, a read), a kept deletion (tombstone), a deletion under way.
 */
export function seenKeys(userId: string) {
  return [userCounterKey(userId), tombstoneKey(userId), deletionMarkerKey(userId)];
}

/** The user counter, the tombstone and the deletion marker, read with other tables' items. */
export function userStateRead(userId: string): TableRead<UserState> {
  const keys = seenKeys(userId);
  return {
    table: COUNTERS_TABLE,
    keys,
    consistent: true,
    found: (items) => {
      const [user, tombstone, marker] = keys.map((key) =>
        items.find((item) => item[COUNTERS.sortKey] === key[COUNTERS.sortKey]),
      );
      return {
        counters: userCountersOf(user),
        firstSeenAt: firstSeenOf(user),
        inheritedDeniedRoles: tombstoneDeniedRoles(tombstone),
        beingDeleted: marker !== undefined,
      };
    },
  };
}
