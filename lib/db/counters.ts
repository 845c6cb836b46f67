import { GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { config } from "../config.ts";
import { db, readTogether, type TableRead } from "./client.ts";
import { isConditionFailure } from "./errors.ts";

/**
 * The counters table: small items of their own, so that counting costs the same whatever the
 * size of a playlist or a profile (DynamoDB bills a write by the whole item's size).
 * - `counter_id: "user"`: the user's songs and playlists (quotas), total plays, `first_seen_at` (the first create or play, or the user's first
 *   read of a profile with nothing stored: the user object's created_at when that is earlier than
 *   the profile's), `deleting` while the account is being erased, and for song
 *   deletions `song_deletions` (how many ever, so that a playlist write can tell one raced it)
 *   and `removing_songs` (the ids still being taken out of the user's playlists).
 * - `counter_id: <playlistId>`: that playlist's plays; it exists exactly while the playlist does.
 * - `counter_id: "play#<slot>"`: the cooldown's record of one counted play (`played_at`, epoch
 *   ms), slot = floor(played_at / cooldown): see countPlay. DynamoDB's TTL (`expires_at`) removes
 *   it once no admissible play can be near it.
 * - `counter_id: "tombstone"`: what outlives an erased account, an operator's `denied_roles`
 *   and nothing else (CONTRACT: Data rights), applied again if the user id returns.
 * - `counter_id: "featured"`: the ids of the featured playlists the user created as an editor
 *   and that are not deleted (`playlist_ids`): the editor's quota, and where a deletion of one
 *   of their songs finds the featured playlists to take it out of.
 * - `counter_id: "deletion"`: the account's deletion is under way. Written first (with the marks
 *   that stop every write), removed last (once Auth0 has deleted the user): while it exists the
 *   post-login hook refuses the user, and any DELETE of the user finishes the deletion.
 */
export const COUNTERS_TABLE = config().tables.counters;

const USER_COUNTER = "user";
const TOMBSTONE = "tombstone";
const FEATURED = "featured";
const DELETION = "deletion";

export const userCounterKey = (userId: string) => ({ user_id: userId, counter_id: USER_COUNTER });
const playlistCounterKey = (userId: string, playlistId: string) => ({
  user_id: userId,
  counter_id: playlistId,
});

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

const NOT_DELETING = "attribute_not_exists(deleting)";
/** Kept from the first write of the user counter that stamps it (a create, a play). */
const FIRST_SEEN = "first_seen_at = if_not_exists(first_seen_at, :seen)";

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
        ConditionExpression: "attribute_exists(counter_id)",
        ExpressionAttributeValues: { ":song": new Set([songId]) },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}

/** How far back a play may be sent (CONTRACT: Plays): older is 400 invalid_played_at. */
export const MAX_PLAY_AGE_MS = 7 * 24 * 3600 * 1000;
/** Slot items outlive the oldest play admissible beside them by this much. */
const SLOT_MARGIN_MS = 24 * 3600 * 1000;

const playSlotKey = (userId: string, slot: number) => ({
  user_id: userId,
  counter_id: `play#${slot}`,
});

/**
 * Transaction items of one counted play at `playedAt` (epoch ms): one more in the user's total
 * (refused while the account is being deleted) and, with a cooldown C, the cooldown's record.
 * Two counted plays are at least C apart by their play times, whatever order they arrive in:
 * each counted play is an item in its slot floor(t / C), so a play at t can only be closer than
 * C to plays in slots s - 1, s and s + 1. The play puts slot s's item (refused when there is one:
 * a play in the same slot is closer than C) and checks that s - 1's is at most t - C and s + 1's
 * at least t + C (or absent), in the same transaction: concurrent plays near each other touch a
 * common item, so DynamoDB serialises them and one is refused. Refusals carry the stored play
 * (ALL_OLD: `playedAtFound`). Without a cooldown, no slot items at all.
 */
export function countPlay(userId: string, playedAt: number, cooldownSeconds: number) {
  const userPlays = {
    Update: {
      TableName: COUNTERS_TABLE,
      Key: userCounterKey(userId),
      UpdateExpression: `ADD total_plays :one SET ${FIRST_SEEN}`,
      ConditionExpression: NOT_DELETING,
      ExpressionAttributeValues: { ":one": 1, ":seen": new Date().toISOString() },
      ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const,
    },
  };
  if (cooldownSeconds <= 0) return { userPlays };
  const cooldown = cooldownSeconds * 1000;
  const slot = Math.floor(playedAt / cooldown);
  const neighbour = (offset: -1 | 1) => ({
    ConditionCheck: {
      TableName: COUNTERS_TABLE,
      Key: playSlotKey(userId, slot + offset),
      ConditionExpression:
        offset < 0
          ? "attribute_not_exists(played_at) OR played_at <= :bound"
          : "attribute_not_exists(played_at) OR played_at >= :bound",
      ExpressionAttributeValues: { ":bound": playedAt + offset * cooldown },
      ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const,
    },
  });
  return {
    userPlays,
    playSlot: {
      Put: {
        TableName: COUNTERS_TABLE,
        Item: {
          ...playSlotKey(userId, slot),
          played_at: playedAt,
          // Epoch seconds, as DynamoDB's TTL reads them.
          expires_at: Math.ceil((playedAt + MAX_PLAY_AGE_MS + cooldown + SLOT_MARGIN_MS) / 1000),
        },
        ConditionExpression: "attribute_not_exists(counter_id)",
        ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const,
      },
    },
    playBefore: neighbour(-1),
    playAfter: neighbour(1),
  };
}

/** The play time a refused countPlay item found stored (ALL_OLD, epoch ms), if it says. */
export function playedAtFound(item: Record<string, unknown> | undefined): number | undefined {
  return typeof item?.played_at === "number" ? item.played_at : undefined;
}

/** Transaction item: a new playlist's own play counter. */
export function newPlaylistCounter(userId: string, playlistId: string) {
  return {
    Put: {
      TableName: COUNTERS_TABLE,
      Item: { ...playlistCounterKey(userId, playlistId), plays: 0 },
    },
  };
}

/** Transaction item: one more play of an existing playlist (its counter exists with it). */
export function addPlaylistPlay(userId: string, playlistId: string) {
  return {
    Update: {
      TableName: COUNTERS_TABLE,
      Key: playlistCounterKey(userId, playlistId),
      UpdateExpression: "ADD plays :one",
      ConditionExpression: "attribute_exists(plays)",
      ExpressionAttributeValues: { ":one": 1 },
    },
  };
}

/** Transaction item: removes a playlist's counter, only if it still holds `plays`. */
export function deletePlaylistCounter(userId: string, playlistId: string, plays?: number) {
  return {
    Delete: {
      TableName: COUNTERS_TABLE,
      Key: playlistCounterKey(userId, playlistId),
      ...(plays === undefined
        ? {}
        : {
            ConditionExpression: "attribute_not_exists(plays) OR plays = :plays",
            ExpressionAttributeValues: { ":plays": plays },
            // A refusal names the plays now counted: the delete goes again with them.
            ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const,
          }),
    },
  };
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

export const tombstoneKey = (userId: string) => ({ user_id: userId, counter_id: TOMBSTONE });

/** Transaction item: the roles an operator denied, kept for an erased account. */
export function putTombstone(userId: string, deniedRoles: readonly string[]) {
  return {
    Put: {
      TableName: COUNTERS_TABLE,
      Item: { ...tombstoneKey(userId), denied_roles: [...deniedRoles] },
    },
  };
}

/** The denied roles a tombstone item holds (none without one). */
function tombstoneDeniedRoles(item: { denied_roles?: unknown } | undefined): string[] {
  const roles = item?.denied_roles;
  return Array.isArray(roles) ? roles.filter((r): r is string => typeof r === "string") : [];
}

/** Transaction item: the tombstone goes (its denials were copied, or there are none to keep). */
export function deleteTombstone(userId: string) {
  return { Delete: { TableName: COUNTERS_TABLE, Key: tombstoneKey(userId) } };
}

const featuredCounterKey = (editor: string) => ({ user_id: editor, counter_id: FEATURED });

/**
 * Transaction item: one more featured playlist of the editor, refused (condition) when they hold
 * `max` already. The set's size is the count, so no number can drift from the ids.
 */
export function takeFeaturedPlace(editor: string, playlistId: string, max: number) {
  return {
    Update: {
      TableName: COUNTERS_TABLE,
      Key: featuredCounterKey(editor),
      UpdateExpression: "ADD playlist_ids :id",
      ConditionExpression: "attribute_not_exists(playlist_ids) OR size(playlist_ids) < :max",
      ExpressionAttributeValues: { ":id": new Set([playlistId]), ":max": max },
    },
  };
}

/** Transaction item: the featured playlist no longer counts against its editor's quota. */
export function releaseFeaturedPlace(editor: string, playlistId: string) {
  return {
    Update: {
      TableName: COUNTERS_TABLE,
      Key: featuredCounterKey(editor),
      UpdateExpression: "DELETE playlist_ids :id",
      ExpressionAttributeValues: { ":id": new Set([playlistId]) },
    },
  };
}

/** The ids of the editor's featured playlists that are not deleted (a consistent read). */
export async function featuredIdsOf(editor: string): Promise<string[]> {
  const { Item } = await db.send(
    new GetCommand({
      TableName: COUNTERS_TABLE,
      Key: featuredCounterKey(editor),
      ConsistentRead: true,
    }),
  );
  return [...((Item?.playlist_ids as Set<string> | undefined) ?? [])];
}

const deletionMarkerKey = (userId: string) => ({ user_id: userId, counter_id: DELETION });

/** Transaction item: the account's deletion has begun (lib/db/account.ts). */
export function putDeletionMarker(userId: string) {
  return {
    Put: {
      TableName: COUNTERS_TABLE,
      Item: { ...deletionMarkerKey(userId), started_at: new Date().toISOString() },
    },
  };
}

/** Whether a deletion of the account was begun and is not finished yet. */
export async function deletionUnderWay(userId: string): Promise<boolean> {
  const { Item } = await db.send(
    new GetCommand({
      TableName: COUNTERS_TABLE,
      Key: deletionMarkerKey(userId),
      ConsistentRead: true,
    }),
  );
  return Item !== undefined;
}

/** The deletion is done, Auth0's user included: the user id may log in again (a new user). */
export function deleteDeletionMarker(userId: string) {
  return { Delete: { TableName: COUNTERS_TABLE, Key: deletionMarkerKey(userId) } };
}

/** Transaction item: the editor's featured quota goes with their account. */
export function deleteFeaturedCounter(editor: string) {
  return { Delete: { TableName: COUNTERS_TABLE, Key: featuredCounterKey(editor) } };
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
        items.find((item) => item.counter_id === key.counter_id),
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

/** The plays of up to 100 playlists of a user, by playlist id, read with other tables' items. */
export function playsRead(
  userId: string,
  playlistIds: string[],
  consistent: boolean,
): TableRead<Map<string, number>> {
  return {
    table: COUNTERS_TABLE,
    keys: playlistIds.map((id) => playlistCounterKey(userId, id)),
    consistent,
    found: (items) =>
      new Map(items.map((item) => [item.counter_id as string, playsFound(item) ?? 0])),
  };
}

/** The plays of up to 100 playlists of a user, by playlist id: one BatchGetItem. */
export async function playsOfMany(
  userId: string,
  playlistIds: string[],
  consistent: boolean,
): Promise<Map<string, number>> {
  return (await readTogether({ plays: playsRead(userId, playlistIds, consistent) })).plays;
}

/** One playlist's plays: one GetItem of its counter. */
export async function playsOf(
  userId: string,
  playlistId: string,
  consistent: boolean,
): Promise<number> {
  const { Item } = await db.send(
    new GetCommand({
      TableName: COUNTERS_TABLE,
      Key: playlistCounterKey(userId, playlistId),
      ConsistentRead: consistent,
    }),
  );
  return playsFound(Item) ?? 0;
}

/** The plays a playlist's counter item holds (a read, or a refused delete's ALL_OLD), if it says. */
export function playsFound(item: Record<string, unknown> | undefined): number | undefined {
  return typeof item?.plays === "number" ? item.plays : undefined;
}
