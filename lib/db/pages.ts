import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { ULID_PATTERN } from "../ids.ts";
import { db } from "./client.ts";
import { decodeCursor, encodeCursor } from "./cursor.ts";
import { InvalidCursor } from "./errors.ts";

/** A page of a list and the cursor of the next one (null on the last page). */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * Turns a signed cursor back into DynamoDB's ExclusiveStartKey for one caller's list. Only the
 * sort key travels in the cursor; the partition key always comes from the verified caller.
 */
async function startKey(
  list: string,
  owner: string,
  cursor: string | undefined,
  sortKey: string,
  partition?: Record<string, string>,
): Promise<Record<string, string> | undefined> {
  const key = await decodeCursor(list, owner, cursor);
  if (!key) return undefined;
  const id = key[sortKey];
  if (typeof id !== "string" || !ULID_PATTERN.test(id)) {
    throw new InvalidCursor();
  }
  return { ...partition, [sortKey]: id };
}

/** What a Query or Scan answered: its items, and where it stopped when it stopped early. */
export interface Read<Item> {
  Items?: Item[];
  LastEvaluatedKey?: Record<string, unknown>;
}

/**
 * The page out of a request for `limit + 1` items. The extra item only tells that another page
 * exists, so the last page answers a null cursor even when it is full. DynamoDB also stops at
 * 1 MB read, before `limit + 1` items when they are large (30 playlists of 500 long ids); it
 * then says where it stopped (LastEvaluatedKey), and the page ends there with a cursor from that
 * key. Such a page is short rather than completed by more requests: every page costs one
 * request and at most 1 MB read, and its body stays near 1 MB, whatever `limit` asks. Cut
 * there, a page cannot tell whether more items follow: its cursor may lead to an empty last
 * page (null cursor), which walking the cursors handles like any other.
 */
async function pageOf<Item extends object, T>(
  list: string,
  owner: string,
  read: Read<Item>,
  limit: number,
  sortKey: string,
  fromItem: (item: Item) => T,
): Promise<Page<T>> {
  const items = read.Items ?? [];
  const page = items.slice(0, limit);
  const last =
    items.length > limit
      ? (page.at(-1) as Record<string, unknown> | undefined)?.[sortKey]
      : read.LastEvaluatedKey?.[sortKey];
  return {
    items: page.map(fromItem),
    nextCursor:
      typeof last === "string" ? await encodeCursor(list, owner, { [sortKey]: last }) : null,
  };
}

/**
 * A table of items under a user's partition key `user_id`, each under its own time-ordered id
 * (a ULID sort key): the songs and the playlists tables, as their modules declare them.
 */
export interface UserPartition {
  table: string;
  /** The sort key's attribute: the item's id. */
  sortKey: string;
  /** The list its cursors are bound to. */
  name: string;
}

/** The key of the item of `partition` with id `id`. */
export function partitionKey(partition: UserPartition, userId: string, id: string) {
  return { user_id: userId, [partition.sortKey]: id };
}

/** One page of a user's partition (their songs or playlists), in sort-key order: one Query. */
export async function userPartitionPage<Item extends object, T>(
  partition: UserPartition,
  fromItem: (item: Item) => T,
  userId: string,
  limit: number,
  cursor: string | undefined,
): Promise<Page<T>> {
  const { table, name, sortKey } = partition;
  const read = await db.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: "user_id = :user",
      ExpressionAttributeValues: { ":user": userId },
      Limit: limit + 1,
      ExclusiveStartKey: await startKey(name, userId, cursor, sortKey, { user_id: userId }),
    }),
  );
  return pageOf(name, userId, read as Read<Item>, limit, sortKey, fromItem);
}
