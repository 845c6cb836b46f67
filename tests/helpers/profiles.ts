import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { db } from "../../lib/db/client.ts";
import { COUNTERS_TABLE } from "../../lib/db/counters/table.ts";
import { userCounterKey } from "../../lib/db/counters/user.ts";
import { PROFILES_TABLE } from "../../lib/db/profile-item.ts";

/**
 * Writes a stored profile directly, as an operator or an earlier hook run would have left it.
 * `total_plays` goes to the user's counter item, where plays are counted.
 */
export async function storeProfile(
  userId: string,
  fields: { user_metadata?: object; app_metadata?: object; total_plays?: number; version?: number },
): Promise<void> {
  const { total_plays, ...profile } = fields;
  await db.send(
    new PutCommand({
      TableName: PROFILES_TABLE,
      Item: {
        user_id: userId,
        user_metadata: {},
        app_metadata: {},
        version: 1,
        created_at: "2026-01-01T00:00:00.000Z",
        updated_at: "2026-01-01T00:00:00.000Z",
        ...profile,
      },
    }),
  );
  if (total_plays !== undefined) {
    await db.send(
      new PutCommand({
        TableName: COUNTERS_TABLE,
        Item: { ...userCounterKey(userId), total_plays },
      }),
    );
  }
}
