/**
 * The deletion marker (`counter_id: "deletion"`): the account's deletion is under way. Written
 * first (with the marks that stop every write), removed last (once Auth0 has deleted the user):
 * while it exists the post-login hook refuses the user, and any DELETE of the user finishes the
 * deletion.
 */
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { COUNTERS } from "../../kinds/counters.ts";
import { keyOf } from "../../kinds/kind.ts";
import { db } from "../client.ts";
import { COUNTERS_TABLE } from "./table.ts";

export const deletionMarkerKey = (userId: string) => keyOf(COUNTERS, userId, "deletion");

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
