import { GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { config } from "../config.ts";
import { newId, ULID_PATTERN } from "../ids.ts";
import { attributesOf, fromItem, keyOf, setsOf, versionOf } from "../kinds/kind.ts";
import { SONG } from "../kinds/song.ts";
import type { WriteRefusal } from "../refusals.ts";
import type { Song } from "../schemas/answers.ts";
import type { SongInput } from "../schemas/library.ts";
import { changeStamp, newVersion, putTombstone } from "./changes.ts";
import { batchGet, db, transact } from "./client.ts";
import { songDeleted, takeQuota } from "./counters/user.ts";
import { isConditionFailure } from "./errors.ts";
import type { RecordItems } from "./idempotency.ts";
import { type Page, type UserPartition, userPartitionPage } from "./pages.ts";
import { refusalOf } from "./refusals.ts";

/** The songs table, its items as lib/kinds/song.ts declares them. */
export const SONGS_TABLE = config().tables[SONG.table];

export const SONGS: UserPartition = { table: SONGS_TABLE, sortKey: SONG.sortKey, name: "songs" };

export const songKey = (userId: string, songId: string) => keyOf(SONG, userId, songId);

/** A stored song with its version (sync's, "0" for one never stamped). */
export interface VersionedSong {
  song: Song;
  version: string;
}

/** A stored song as the API answers it. */
export const songFromItem = (item: Record<string, unknown>): Song => fromItem(SONG, item, {});

/** A song about to be created, made now: its id a fresh ULID unless a device made it (sync). */
export function newSong(input: SongInput, songId: string = newId()): Song {
  return { songId, ...input, createdAt: new Date().toISOString() };
}

/**
 * Stores a new song within the user's quota, in one transaction with the request's idempotency
 * record (when it has a key): all of them or nothing. Answers why not, when refused.
 */
export async function putSong(
  userId: string,
  song: Song,
  maxSongs: number,
  record: RecordItems = {},
): Promise<WriteRefusal | undefined> {
  const item = {
    ...keyOf(SONG, userId),
    ...attributesOf(SONG, song),
    [SONG.version]: newVersion(),
  };
  const refusal = await transact({
    song: { Put: { TableName: SONGS_TABLE, Item: item } },
    quota: takeQuota(userId, "songs", maxSongs),
    ...record,
  });
  return refusalOf(refusal, { quota: "quota" });
}

export async function getSong(userId: string, songId: string): Promise<Song | undefined> {
  const { Item } = await db.send(
    new GetCommand({ TableName: SONGS_TABLE, Key: songKey(userId, songId) }),
  );
  return Item ? songFromItem(Item) : undefined;
}

/**
 * Deletes the caller's song and frees its quota, marking its id as still to be taken out of the
 * user's playlists (lib/domain/songs.ts does that); false when there was no such song.
 */
export async function deleteSong(userId: string, songId: string): Promise<boolean> {
  const refusal = await transact({
    song: {
      Delete: {
        TableName: SONGS_TABLE,
        Key: songKey(userId, songId),
        ConditionExpression: `attribute_exists(${SONG.sortKey})`,
      },
    },
    counters: songDeleted(userId, songId),
    tombstone: putTombstone(userId, "songs", songId),
  });
  return refusal === undefined;
}

/** A song and its version, read consistently (sync merges against it). */
export async function getVersionedSong(
  userId: string,
  songId: string,
): Promise<VersionedSong | undefined> {
  const { Item } = await db.send(
    new GetCommand({ TableName: SONGS_TABLE, Key: songKey(userId, songId), ConsistentRead: true }),
  );
  return Item ? { song: songFromItem(Item), version: versionOf(SONG, Item) } : undefined;
}

/**
 * Renames or re-genres a song if its version is still `expected` (sync's conditional
 * read-modify-write): the song as written, or undefined when it changed or went meanwhile.
 */
export async function updateSong(
  userId: string,
  songId: string,
  expected: string,
  changes: SongInput,
): Promise<VersionedSong | undefined> {
  const stamp = changeStamp();
  const { sets, names, values } = setsOf(SONG, changes);
  try {
    const { Attributes } = await db.send(
      new UpdateCommand({
        TableName: SONGS_TABLE,
        Key: songKey(userId, songId),
        UpdateExpression: `SET ${[...sets, stamp.set].join(", ")}`,
        ConditionExpression:
          expected === "0"
            ? `attribute_exists(${SONG.sortKey}) AND attribute_not_exists(${SONG.version})`
            : `${SONG.version} = :expected`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: {
          ...values,
          ...stamp.values,
          ...(expected === "0" ? {} : { ":expected": expected }),
        },
        ReturnValues: "ALL_NEW",
      }),
    );
    return { song: songFromItem(Attributes ?? {}), version: stamp.version };
  } catch (error) {
    if (isConditionFailure(error)) return undefined;
    throw error;
  }
}

/** Keys per BatchGetItem: DynamoDB's limit. */
const KEYS_PER_BATCH = 100;

/**
 * Which of `songIds` are songs of the user: consistent reads (a song created just before
 * counts), 100 keys per BatchGetItem, the batches side by side (500 ids: 5 requests, 1 RCU per
 * song). An id that is no ULID cannot be a song and is not looked up.
 */
export async function songsOf(userId: string, songIds: string[]): Promise<Set<string>> {
  const ids = [...new Set(songIds)].filter((id) => ULID_PATTERN.test(id));
  const batches: Promise<Record<string, Record<string, unknown>[]>>[] = [];
  for (let i = 0; i < ids.length; i += KEYS_PER_BATCH) {
    const keys = ids.slice(i, i + KEYS_PER_BATCH).map((id) => songKey(userId, id));
    batches.push(batchGet({ [SONGS_TABLE]: { keys, consistent: true, projection: SONG.sortKey } }));
  }
  const found = await Promise.all(batches);
  return new Set(
    found.flatMap((tables) => (tables[SONGS_TABLE] ?? []).map((s) => s[SONG.sortKey] as string)),
  );
}

export function listSongs(
  userId: string,
  limit: number,
  cursor: string | undefined,
): Promise<Page<Song>> {
  return userPartitionPage(SONGS, songFromItem, userId, limit, cursor);
}

/** Up to 100 of a user's songs by id with their versions (sync's pull): consistent reads. */
export async function versionedSongs(userId: string, songIds: string[]): Promise<VersionedSong[]> {
  if (songIds.length === 0) return [];
  const keys = songIds.map((id) => songKey(userId, id));
  const found = await batchGet({ [SONGS_TABLE]: { keys, consistent: true } });
  return (found[SONGS_TABLE] ?? []).map((item) => ({
    song: songFromItem(item),
    version: versionOf(SONG, item),
  }));
}
