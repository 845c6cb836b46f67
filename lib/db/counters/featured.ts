/**
 * The editor's featured places (`counter_id: "featured"`): the ids of the featured playlists the
 * user created as an editor and that are not deleted (`playlist_ids`): the editor's quota, and
 * where a deletion of one of their songs finds the featured playlists to take it out of.
 */
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { COUNTERS } from "../../kinds/counters.ts";
import { keyOf } from "../../kinds/kind.ts";
import { db } from "../client.ts";
import { COUNTERS_TABLE } from "./table.ts";

const featuredCounterKey = (editor: string) => keyOf(COUNTERS, editor, "featured");

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

/** Transaction item: the editor's featured quota goes with their account. */
export function deleteFeaturedCounter(editor: string) {
  return { Delete: { TableName: COUNTERS_TABLE, Key: featuredCounterKey(editor) } };
}
