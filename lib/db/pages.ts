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
export async function startKey(
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

/**
 * The page out of a request for `limit + 1` items: the extra item only tells that another page
 * exists, so the last page answers a null cursor even when it is full.
 */
export async function pageOf<Item extends object, T>(
  list: string,
  owner: string,
  items: Item[],
  limit: number,
  sortKey: string,
  fromItem: (item: Item) => T,
): Promise<Page<T>> {
  const page = items.slice(0, limit);
  const last = (page.at(-1) as Record<string, unknown> | undefined)?.[sortKey];
  return {
    items: page.map(fromItem),
    nextCursor:
      items.length > limit && typeof last === "string"
        ? await encodeCursor(list, owner, { [sortKey]: last })
        : null,
  };
}

/**
 * One page of a user's partition (their songs or playlists), in sort-key order: one Query.
 * `name` is the list its cursors are bound to.
 */
export async function userPartitionPage<Item extends object, T>(
  list: { table: string; name: string; sortKey: string; fromItem: (item: Item) => T },
  userId: string,
  limit: number,
  cursor: string | undefined,
): Promise<Page<T>> {
  const { Items } = await db.send(
    new QueryCommand({
      TableName: list.table,
      KeyConditionExpression: "user_id = :user",
      ExpressionAttributeValues: { ":user": userId },
      Limit: limit + 1,
      ExclusiveStartKey: await startKey(list.name, userId, cursor, list.sortKey, {
        user_id: userId,
      }),
    }),
  );
  return pageOf(list.name, userId, (Items ?? []) as Item[], limit, list.sortKey, list.fromItem);
}
