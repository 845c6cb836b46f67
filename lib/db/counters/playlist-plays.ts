/**
 * A playlist's plays (`counter_id: <playlistId>`): it exists exactly while the playlist does.
 */
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { COUNTERS } from "../../kinds/counters.ts";
import { keyOf } from "../../kinds/kind.ts";
import { db, readTogether, type TableRead } from "../client.ts";
import { COUNTERS_TABLE } from "./table.ts";

const playlistCounterKey = (userId: string, playlistId: string) =>
  keyOf(COUNTERS, userId, playlistId);

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
      new Map(items.map((item) => [item[COUNTERS.sortKey] as string, playsFound(item) ?? 0])),
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
