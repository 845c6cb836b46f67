import { GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { config } from "../config.ts";
import { newId } from "../ids.ts";
import { attributesOf, fromItem, keyOf, setsOf, versionOf } from "../kinds/kind.ts";
import { PLAYLIST } from "../kinds/playlist.ts";
import type { WriteRefusal } from "../refusals.ts";
import type { Playlist } from "../schemas/answers.ts";
import type { PlaylistChanges, PlaylistInput } from "../schemas/library.ts";
import { changeStamp, newVersion, putTombstone } from "./changes.ts";
import {
  CONFLICT,
  db,
  readTogether,
  type TableRead,
  transact,
  withTransactions,
} from "./client.ts";
import { countPlay, playedAtFound } from "./counters/play-slots.ts";
import {
  addPlaylistPlay,
  deletePlaylistCounter,
  newPlaylistCounter,
  playsFound,
  playsOf,
  playsOfMany,
  playsRead,
} from "./counters/playlist-plays.ts";
import { releaseCounts, takeQuota } from "./counters/user.ts";
import { isConditionFailure } from "./errors.ts";
import type { RecordItems } from "./idempotency.ts";
import { type Page, type UserPartition, userPartitionPage } from "./pages.ts";
import { refusalOf } from "./refusals.ts";

/**
 * The playlists table, its items as lib/kinds/playlist.ts declares them (lib/db/featured.ts stores
 * the featured ones the same way). A playlist's plays live in its own small counter item
 * (lib/db/counters/playlist-plays.ts), created and deleted with it.
 */
export const PLAYLISTS_TABLE = config().tables[PLAYLIST.table];

export const PLAYLISTS: UserPartition = {
  table: PLAYLISTS_TABLE,
  sortKey: PLAYLIST.sortKey,
  name: "playlists",
};

/** A stored playlist's attributes (a user's or a featured one). */
export type PlaylistItem = Record<string, unknown>;

const idOf = (item: PlaylistItem) => item[PLAYLIST.sortKey] as string;

/** A user's playlist with its version (sync's, and its ETag; "0" for one never stamped). */
export interface VersionedPlaylist {
  playlist: Playlist;
  version: string;
}

const key = (userId: string, playlistId: string) => keyOf(PLAYLIST, userId, playlistId);

/** Transaction item: a user's playlist goes (its counter goes in the same transaction). */
export function deletePlaylistItem(userId: string, playlistId: string) {
  return { Delete: { TableName: PLAYLISTS_TABLE, Key: key(userId, playlistId) } };
}

export function playlistFromItem(item: PlaylistItem, plays: number, featured: boolean): Playlist {
  return fromItem(PLAYLIST, item, { plays, featured });
}

/** A playlist about to be created: a fresh time-ordered id, no plays yet. */
export function newPlaylist(input: PlaylistInput, featured: boolean): Playlist {
  const now = new Date().toISOString();
  return {
    playlistId: newId(),
    name: input.name,
    songIds: input.songIds ?? [],
    plays: 0,
    featured,
    createdAt: now,
    updatedAt: now,
  };
}

export function playlistItem(playlist: Playlist): PlaylistItem {
  return attributesOf(PLAYLIST, playlist);
}

/** What a playlist update writes: the new name, the new list, or both. */
export type PlaylistWrite = Pick<PlaylistChanges, "name" | "songIds">;

/**
 * SET clauses for a partial update, shared by user and featured playlists; a user's playlist
 * takes the change stamp too (`stamp`).
 */
export function playlistUpdate(changes: PlaylistWrite, stamp?: ReturnType<typeof changeStamp>) {
  const changed = setsOf(PLAYLIST, { ...changes, updatedAt: new Date().toISOString() });
  const sets = [...changed.sets, ...(stamp ? [stamp.set] : [])];
  return {
    UpdateExpression: `SET ${sets.join(", ")}`,
    ExpressionAttributeNames: changed.names,
    ExpressionAttributeValues: { ...changed.values, ...stamp?.values },
  };
}

/**
 * Stores a new playlist and its play counter within the user's quota, in one transaction with
 * the request's idempotency record (when it has a key): all or nothing. Answers why not, when
 * refused.
 */
export async function putPlaylist(
  userId: string,
  playlist: Playlist,
  maxPlaylists: number,
  record: RecordItems = {},
  version: string = newVersion(),
): Promise<WriteRefusal | undefined> {
  const refusal = await transact({
    playlist: {
      Put: {
        TableName: PLAYLISTS_TABLE,
        Item: {
          ...playlistItem(playlist),
          ...keyOf(PLAYLIST, userId),
          [PLAYLIST.version]: version,
        },
      },
    },
    plays: newPlaylistCounter(userId, playlist.playlistId),
    quota: takeQuota(userId, "playlists", maxPlaylists),
    ...record,
  });
  return refusalOf(refusal, { quota: "quota" });
}

/** The playlist with its plays: one BatchGetItem over the playlist and its counter. */
export async function getPlaylist(
  userId: string,
  playlistId: string,
  consistent = false,
): Promise<Playlist | undefined> {
  return (await getVersionedPlaylist(userId, playlistId, consistent))?.playlist;
}

/** getPlaylist with the playlist's version. */
export async function getVersionedPlaylist(
  userId: string,
  playlistId: string,
  consistent = false,
): Promise<VersionedPlaylist | undefined> {
  const playlistRead: TableRead<PlaylistItem | undefined> = {
    table: PLAYLISTS_TABLE,
    keys: [key(userId, playlistId)],
    consistent,
    found: (items) => items[0] as PlaylistItem | undefined,
  };
  const { item, plays } = await readTogether({
    item: playlistRead,
    plays: playsRead(userId, [playlistId], consistent),
  });
  return item ? versioned(item, plays.get(playlistId) ?? 0) : undefined;
}

const versioned = (item: PlaylistItem, plays: number): VersionedPlaylist => ({
  playlist: playlistFromItem(item, plays, false),
  version: versionOf(PLAYLIST, item),
});

/** The condition that a user's playlist is still at `expected` ("0": never stamped). */
function versionIs(expected: string | undefined) {
  const exists = `attribute_exists(${PLAYLIST.sortKey})`;
  if (expected === undefined) return { expression: exists, values: {} };
  if (expected === "0") {
    return { expression: `${exists} AND attribute_not_exists(${PLAYLIST.version})`, values: {} };
  }
  return { expression: `${PLAYLIST.version} = :expected`, values: { ":expected": expected } };
}

/**
 * Changes an existing user's playlist, stamped, if its version is still `expected` (any, when
 * undefined). Refused: what is stored (ALL_OLD), or null when there is no playlist.
 */
async function updateExisting(
  Key: Record<string, string>,
  changes: PlaylistWrite,
  expected: string | undefined,
): Promise<{ item: PlaylistItem } | { refused: PlaylistItem | null }> {
  const update = playlistUpdate(changes, changeStamp());
  const condition = versionIs(expected);
  try {
    const { Attributes } = await db.send(
      new UpdateCommand({
        TableName: PLAYLISTS_TABLE,
        Key,
        ...update,
        ConditionExpression: condition.expression,
        ExpressionAttributeValues: { ...update.ExpressionAttributeValues, ...condition.values },
        ReturnValues: "ALL_NEW",
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      }),
    );
    return { item: Attributes as PlaylistItem };
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    const stored = (error as { Item?: Parameters<typeof unmarshall>[0] }).Item;
    return { refused: stored ? (unmarshall(stored) as PlaylistItem) : null };
  }
}

/**
 * Renames or refills a user's playlist, if its version is still `expected` (If-Match; any when
 * undefined): the update and the read of its plays run together. "not_found" when there is no
 * such playlist, "precondition" when its version is another.
 */
export async function updatePlaylist(
  userId: string,
  playlistId: string,
  changes: PlaylistWrite,
  expected?: string,
): Promise<VersionedPlaylist | "not_found" | "precondition"> {
  const [outcome, plays] = await Promise.all([
    updateExisting(key(userId, playlistId), changes, expected),
    playsOf(userId, playlistId, false),
  ]);
  if ("item" in outcome) return versioned(outcome.item, plays);
  return outcome.refused ? "precondition" : "not_found";
}

/**
 * One play at `playedAt` (epoch ms), in one transaction of small items whatever the playlist's
 * size: the playlist's counter, the user's total, the cooldown's slot items (counters/play-slots.ts
 * countPlay) and the request's idempotency record (when it has a key). Answers the refusal, or
 * undefined once counted: "not_found" without the playlist, "too_soon" within the cooldown of a
 * counted play (with `conflictAt`, that play's time), "deleting".
 */
export async function addPlay(
  userId: string,
  playlistId: string,
  cooldownSeconds: number,
  playedAt: number,
  record: RecordItems = {},
): Promise<{ refusal: WriteRefusal; conflictAt?: number } | undefined> {
  const play = countPlay(userId, playedAt, cooldownSeconds);
  const refusal = await transact({
    playlistPlays: addPlaylistPlay(userId, playlistId),
    ...play,
    ...record,
  });
  const reason = refusalOf(refusal, {
    playlistPlays: "not_found",
    playSlot: "too_soon",
    playBefore: "too_soon",
    playAfter: "too_soon",
  });
  if (!reason) return undefined;
  const { playSlot, playBefore, playAfter } = refusal?.items ?? {};
  const conflictAt = [playSlot, playBefore, playAfter]
    .map(playedAtFound)
    .find((at) => at !== undefined);
  return { refusal: reason, ...(conflictAt === undefined ? {} : { conflictAt }) };
}

/** When the playlist was created (ISO 8601), or undefined when the user has no such playlist. */
export async function playlistCreatedAt(
  userId: string,
  playlistId: string,
): Promise<string | undefined> {
  const { Item } = await db.send(
    new GetCommand({
      TableName: PLAYLISTS_TABLE,
      Key: key(userId, playlistId),
      ProjectionExpression: PLAYLIST.fields.createdAt.attribute,
      // A playlist created a moment ago is there.
      ConsistentRead: true,
    }),
  );
  const createdAt = Item?.[PLAYLIST.fields.createdAt.attribute];
  return typeof createdAt === "string" ? createdAt : undefined;
}

/**
 * Deletes the playlist with its counter and lowers the owner's total by its plays, atomically:
 * the counter's delete is conditional on the plays read just before; a play landing in between
 * refuses it with the counter's new plays (ALL_OLD), and the transaction goes again with them.
 * One read and at most 5 transactions (a conflict and a lost race share the one policy). False
 * when there is no such playlist.
 */
export async function deletePlaylist(
  userId: string,
  playlistId: string,
  expected?: string,
): Promise<boolean | "precondition"> {
  let plays: number | undefined;
  const condition = versionIs(expected);
  return withTransactions(async (send, again) => {
    plays ??= await playsOf(userId, playlistId, true);
    const outcome = await send({
      playlist: {
        Delete: {
          TableName: PLAYLISTS_TABLE,
          Key: key(userId, playlistId),
          ConditionExpression: condition.expression,
          ...(expected && expected !== "0" ? { ExpressionAttributeValues: condition.values } : {}),
          ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const,
        },
      },
      plays: deletePlaylistCounter(userId, playlistId, plays),
      counts: releaseCounts(userId, { playlists: 1, plays }),
      tombstone: putTombstone(userId, "playlists", playlistId),
    });
    if (outcome === CONFLICT) return again;
    if (!outcome) return true;
    if (outcome.failed.has("playlist")) return outcome.items.playlist ? "precondition" : false;
    plays = playsFound(outcome.items.plays);
    return again;
  });
}

/** A page of the user's playlists (one Query), with their plays (one BatchGetItem). */
export async function listPlaylists(
  userId: string,
  limit: number,
  cursor: string | undefined,
): Promise<Page<Playlist>> {
  const page = await userPartitionPage(
    PLAYLISTS,
    (item: PlaylistItem) => item,
    userId,
    limit,
    cursor,
  );
  return { items: await withPlays(userId, page.items, false), nextCursor: page.nextCursor };
}

/** Up to 100 stored playlists of a user with their plays: one BatchGetItem of their counters. */
export async function withPlays(
  userId: string,
  items: PlaylistItem[],
  consistent: boolean,
): Promise<Playlist[]> {
  const plays = await playsOfMany(userId, items.map(idOf), consistent);
  return items.map((item) => playlistFromItem(item, plays.get(idOf(item)) ?? 0, false));
}

/** A user's playlists by id with their plays and versions (sync's pull): consistent reads. */
export async function versionedPlaylists(
  userId: string,
  playlistIds: string[],
): Promise<VersionedPlaylist[]> {
  if (playlistIds.length === 0) return [];
  const { items, plays } = await readTogether({
    items: {
      table: PLAYLISTS_TABLE,
      keys: playlistIds.map((id) => key(userId, id)),
      consistent: true,
      found: (found) => found as unknown as PlaylistItem[],
    },
    plays: playsRead(userId, playlistIds, true),
  });
  return items.map((item) => versioned(item, plays.get(idOf(item)) ?? 0));
}
