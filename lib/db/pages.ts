import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { BadRequestError } from "../http/errors.ts";
import { ULID_PATTERN } from "../ids.ts";
import { db } from "./client.ts";
import { decodeCursor, encodeCursor } from "./cursor.ts";

/** A page of a list and the cursor of the next one (null on the last page). */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * Turns a signed cursor back into DynamoDB's ExclusiveStartKey for one caller's list. Only the
 * sort key travels in the cursor; the partition key always comes from the verified caller.
 */
export function startKey(
  list: string,
  owner: string,
  cursor: string | undefined,
  sortKey: string,
  partition?: Record<string, string>,
): Record<string, string> | undefined {
  const key = decodeCursor(list, owner, cursor);
  if (!key) return undefined;
  const id = key[sortKey];
  if (typeof id !== "string" || !ULID_PATTERN.test(id)) {
    throw new BadRequestError(
      "cursor is invalid: pass the nextCursor of a previous page unchanged",
      "invalid_cursor",
    );
  }
  return { ...partition, [sortKey]: id };
}

export function nextCursor(
  list: string,
  owner: string,
  lastKey: Record<string, unknown> | undefined,
  sortKey: string,
): string | null {
  const id = lastKey?.[sortKey];
  return typeof id === "string" ? encodeCursor(list, owner, { [sortKey]: id }) : null;
}

/**
 * One page of a user's partition (their songs or playlists), in sort-key order: one Query.
 * `name` is the list its cursors are bound to.
 */
export async function userPartitionPage<Item, T>(
  list: { table: string; name: string; sortKey: string; fromItem: (item: Item) => T },
  userId: string,
  limit: number,
  cursor: string | undefined,
): Promise<Page<T>> {
  const { Items, LastEvaluatedKey } = await db.send(
    new QueryCommand({
      TableName: list.table,
      KeyConditionExpression: "user_id = :user",
      ExpressionAttributeValues: { ":user": userId },
      Limit: limit,
      ExclusiveStartKey: startKey(list.name, userId, cursor, list.sortKey, { user_id: userId }),
    }),
  );
  return {
    items: (Items ?? []).map((item) => list.fromItem(item as Item)),
    nextCursor: nextCursor(list.name, userId, LastEvaluatedKey, list.sortKey),
  };
}
