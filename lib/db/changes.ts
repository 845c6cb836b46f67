/**
 * The per-user order of changes that sync pulls from (CONTRACT: Sync).
 *
 * Every write of a synced item (a song, a user's playlist, the profile) stamps it with a
 * `sync_version` in the same request: `changeStamp()` is the SET clause and value any UpdateItem
 * or Put adds. A deletion puts a tombstone in the counters table (`counter_id:
 * "deleted#<collection>#<id>"`, with `sync_version` and a 30-day TTL) in the transaction that
 * deletes the item. Each of the four tables has a sparse, KEYS_ONLY index `changes` on
 * (`user_id`, `sync_version`): a pull Queries them from its checkpoint and reads only what
 * changed, so it costs in proportion to the changes, not to the library.
 *
 * A version is the writer's clock (milliseconds, 13 digits) and a random suffix, so it sorts as
 * text and two writes never share one. Clock versions become visible out of order (a write
 * stamped at t may land, or reach the index, after one stamped at t + 1 s), so the checkpoint a
 * pull answers is held back: it never moves past `now - SETTLE_MS`, the longest a stamp can take
 * to show in the index (a write's stamp is taken as its request is built, and no function runs
 * past 29 s; skew between hosts and index lag are far below the rest). What a pull delivered
 * beyond that point is remembered in the checkpoint itself (a short hash of each collection, id
 * and version) and skipped next time, so pulling until `documents` is empty ends.
 */
import { createHash, randomBytes } from "node:crypto";
import { QueryCommand, ScanCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { config } from "../config.ts";
import type { ItemKind } from "../kinds/kind.ts";
import { PLAYLIST } from "../kinds/playlist.ts";
import { PROFILE } from "../kinds/profile.ts";
import { SONG } from "../kinds/song.ts";
import { db } from "./client.ts";
import { isConditionFailure } from "./errors.ts";

const { tables } = config();

/** The index every synced table and the tombstones share: (user_id, sync_version), keys only. */
const CHANGES_INDEX = "changes";

/** How long a stamped write may take to show in the index: the checkpoint stays this far back. */
export const SETTLE_MS = 60_000;

/** How long a deletion stays visible to pulls; an older checkpoint is expired (410). */
export const TOMBSTONE_DAYS = 30;

export type Collection = "songs" | "playlists" | "profile";

/** A fresh version: the clock in ms (13 digits, so text order is time order) and 4 random chars. */
export function newVersion(now: number = Date.now()): string {
  return `${String(now).padStart(13, "0")}.${randomBytes(3).toString("base64url")}`;
}

/** The time a version was stamped at (ms). */
export function versionTime(version: string): number {
  return Number(version.slice(0, 13));
}

/**
 * The change stamp any write of a synced item adds: its SET clause and value. Taken when the
 * request is built, so a retried write takes a fresh one.
 */
export function changeStamp(version: string = newVersion()) {
  return {
    version,
    set: "sync_version = :syncVersion",
    values: { ":syncVersion": version } as Record<string, string>,
  };
}

const tombstoneId = (collection: Collection, id: string) => `deleted#${collection}#${id}`;

/** Transaction item: the tombstone of a deleted item, kept TOMBSTONE_DAYS (TTL `expires_at`). */
export function putTombstone(userId: string, collection: Collection, id: string) {
  const version = newVersion();
  return {
    Put: {
      TableName: tables.counters,
      Item: {
        user_id: userId,
        counter_id: tombstoneId(collection, id),
        sync_version: version,
        expires_at: Math.ceil(Date.now() / 1000) + TOMBSTONE_DAYS * 86_400,
      },
    },
  };
}

/** The key of an item's tombstone, for reads with other items (readTogether). */
export const tombstoneKey = (userId: string, collection: Collection, id: string) => ({
  user_id: userId,
  counter_id: tombstoneId(collection, id),
});

/** One entry of the change order: which item, at which version, deleted or not. */
export interface Change {
  collection: Collection;
  id: string;
  version: string;
  deleted: boolean;
}

interface Source {
  table: string;
  /** The entry an index key names (undefined: not a synced item, such as another counter). */
  entry: (item: Record<string, unknown>) => Change | undefined;
}

/** The synced kinds by collection: each table's items name their id and version as declared. */
const SYNCED = [
  ["songs", SONG],
  ["playlists", PLAYLIST],
  ["profile", PROFILE],
] as const satisfies readonly (readonly [Collection, ItemKind])[];

const SOURCES: Source[] = [
  ...SYNCED.map(([collection, kind]) => {
    // A profile is its user's: its id is the partition key.
    const id = "sortKey" in kind ? kind.sortKey : kind.partitionKey;
    return {
      table: tables[kind.table],
      entry: (i: Record<string, unknown>) => live(collection, i[id], i[kind.version]),
    };
  }),
  {
    table: tables.counters,
    entry: (i) => {
      const [mark, collection, id] = String(i.counter_id).split("#");
      if (mark !== "deleted" || !id) return undefined;
      return {
        collection: collection as Collection,
        id,
        version: String(i.sync_version),
        deleted: true,
      };
    },
  },
];

function live(collection: Collection, id: unknown, version: unknown): Change {
  return { collection, id: String(id), version: String(version), deleted: false };
}

/**
 * Up to `perSource` entries of each source changed after `after`, in version order, and the
 * highest version up to which every source was read completely (undefined: all were).
 */
export async function changesAfter(
  userId: string,
  after: string,
  perSource: number,
): Promise<{ changes: Change[]; complete: string | undefined }> {
  const pages = await Promise.all(
    SOURCES.map(async (source) => {
      const page = await db.send(
        new QueryCommand({
          TableName: source.table,
          IndexName: CHANGES_INDEX,
          KeyConditionExpression: "user_id = :user AND sync_version > :after",
          ExpressionAttributeValues: { ":user": userId, ":after": after },
          Limit: perSource,
        }),
      );
      const items = page.Items ?? [];
      const last = items.at(-1)?.sync_version as string | undefined;
      const cut = page.LastEvaluatedKey ? last : undefined;
      return { changes: items.flatMap((i) => source.entry(i) ?? []), cut };
    }),
  );
  const cuts = pages.flatMap((p) => (p.cut ? [p.cut] : []));
  const complete = cuts.length ? cuts.sort()[0] : undefined;
  const changes = pages
    .flatMap((p) => p.changes)
    .filter((c) => complete === undefined || c.version <= complete)
    .sort((a, b) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
  return { changes, complete };
}

/** A short, stable mark of one delivered entry, for the checkpoint's memory. */
export function deliveredMark(change: Pick<Change, "collection" | "id" | "version">): string {
  return createHash("sha256")
    .update(`${change.collection}/${change.id}/${change.version}`)
    .digest("base64url")
    .slice(0, 8);
}

/** The synced tables and their sort keys (the profiles table has none). */
const STAMPED_TABLES = [
  { table: tables.songs, sortKey: "song_id" },
  { table: tables.playlists, sortKey: "playlist_id" },
  { table: tables.profiles, sortKey: undefined },
] as const;

/**
 * Stamps every item that has no `sync_version`: items written before sync existed are out of the
 * sparse `changes` index, so no pull would ever deliver them. One Scan of each synced table
 * (keys of unstamped items only), then an UpdateItem per item that holds only while the item is
 * there and still unstamped, so a concurrent write or deletion wins. Running it again stamps
 * nothing. `onPage` hears how many items each page stamped.
 */
export async function stampUnversioned(onPage: (stamped: number) => void): Promise<number> {
  let total = 0;
  for (const { table, sortKey } of STAMPED_TABLES) {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await db.send(
        new ScanCommand({
          TableName: table,
          FilterExpression: "attribute_not_exists(sync_version)",
          ProjectionExpression: sortKey ? "user_id, #sort" : "user_id",
          ...(sortKey ? { ExpressionAttributeNames: { "#sort": sortKey } } : {}),
          ExclusiveStartKey: start,
        }),
      );
      let stamped = 0;
      for (const key of page.Items ?? []) {
        const stamp = changeStamp();
        try {
          await db.send(
            new UpdateCommand({
              TableName: table,
              Key: key,
              UpdateExpression: `SET ${stamp.set}`,
              ConditionExpression:
                "attribute_exists(user_id) AND attribute_not_exists(sync_version)",
              ExpressionAttributeValues: stamp.values,
            }),
          );
          stamped++;
        } catch (error) {
          if (!isConditionFailure(error)) throw error;
        }
      }
      total += stamped;
      onPage(stamped);
      start = page.LastEvaluatedKey;
    } while (start);
  }
  return total;
}
