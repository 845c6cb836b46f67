import { setTimeout as sleep } from "node:timers/promises";
import { BatchWriteCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { db, transact } from "./client.ts";
import { transactionConditionFailures } from "./errors.ts";
import { PLAYLISTS_TABLE } from "./playlists.ts";
import { addPlaysToTotal } from "./profiles.ts";
import { SONGS_TABLE } from "./songs.ts";

/**
 * Erasing a user's music, page by page. Every step leaves the data consistent, so a failure
 * part way leaves fewer items, never a wrong total, and repeating the call finishes the job.
 */

async function* keyPages(table: string, sortKey: string, userId: string, extra: string[] = []) {
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: "user_id = :user",
        ExpressionAttributeValues: { ":user": userId },
        ProjectionExpression: ["user_id", sortKey, ...extra].join(", "),
        ConsistentRead: true,
        Limit: 100,
        ExclusiveStartKey,
      }),
    );
    ExclusiveStartKey = page.LastEvaluatedKey;
    if (page.Items?.length) yield page.Items;
  } while (ExclusiveStartKey);
}

export async function deleteAllSongs(userId: string): Promise<number> {
  let deleted = 0;
  for await (const items of keyPages(SONGS_TABLE, "song_id", userId)) {
    for (let i = 0; i < items.length; i += 25) {
      let requests = items.slice(i, i + 25).map((item) => ({
        DeleteRequest: { Key: { user_id: userId, song_id: item.song_id } },
      }));
      for (let attempt = 0; requests.length > 0; attempt++) {
        if (attempt > 0) await sleep(Math.min(1000, 20 * 2 ** attempt));
        const { UnprocessedItems } = await db.send(
          new BatchWriteCommand({ RequestItems: { [SONGS_TABLE]: requests } }),
        );
        requests = (UnprocessedItems?.[SONGS_TABLE] ?? []) as typeof requests;
      }
      deleted += Math.min(25, items.length - i);
    }
  }
  return deleted;
}

/**
 * Deletes the user's playlists 99 at a time, each batch in one transaction with the matching
 * decrement of the profile's total, so `total_plays` always equals the plays that remain.
 */
export async function deleteAllPlaylists(userId: string): Promise<number> {
  let deleted = 0;
  for (let pass = 0; pass < 20; pass++) {
    let conflicted = false;
    for await (const items of keyPages(PLAYLISTS_TABLE, "playlist_id", userId, ["plays"])) {
      for (let i = 0; i < items.length; i += 99) {
        const batch = items.slice(i, i + 99);
        const plays = batch.reduce(
          (sum, item) => sum + ((item.plays as number | undefined) ?? 0),
          0,
        );
        try {
          await transact([
            ...batch.map((item) => ({
              Delete: {
                TableName: PLAYLISTS_TABLE,
                Key: { user_id: userId, playlist_id: item.playlist_id },
                ConditionExpression: "attribute_not_exists(plays) OR plays = :plays",
                ExpressionAttributeValues: {
                  ":plays": (item.plays as number | undefined) ?? 0,
                },
              },
            })),
            ...(plays > 0 ? [addPlaysToTotal(userId, -plays)] : []),
          ]);
          deleted += batch.length;
        } catch (error) {
          // A play landed on one of them meanwhile: read again on the next pass.
          if (!transactionConditionFailures(error)?.some(Boolean)) throw error;
          conflicted = true;
        }
      }
    }
    if (!conflicted) return deleted;
  }
  throw new Error("playlists kept changing while the account was being deleted");
}
