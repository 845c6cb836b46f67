import { BatchWriteCommand } from "@aws-sdk/lib-dynamodb";
import { db } from "../../lib/db/client.ts";
import { SONGS_TABLE } from "../../lib/db/songs.ts";
import { newId } from "../../lib/ids.ts";

/**
 * Items written straight into a table, 25 per BatchWriteItem: seeding faster than the API. Into
 * the suite's DynamoDB, or the one `client` reaches (a stack's).
 */
export async function writeItems(
  table: string,
  items: Record<string, unknown>[],
  client: Pick<typeof db, "send"> = db,
): Promise<void> {
  for (let i = 0; i < items.length; i += 25) {
    let requests = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    while (requests.length > 0) {
      const { UnprocessedItems } = await client.send(
        new BatchWriteCommand({ RequestItems: { [table]: requests } }),
      );
      requests = (UnprocessedItems?.[table] ?? []) as typeof requests;
    }
  }
}

/** `count` songs of the user, stored directly (their quota is not counted); answers their ids. */
export async function storeSongs(userId: string, count: number): Promise<string[]> {
  const songs = Array.from({ length: count }, (_, i) => ({
    user_id: userId,
    song_id: newId(),
    song_name: `Song ${i}`,
    genre: "pop",
    created_at: new Date().toISOString(),
  }));
  await writeItems(SONGS_TABLE, songs);
  return songs.map((song) => song.song_id);
}
