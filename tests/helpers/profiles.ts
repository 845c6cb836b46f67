import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { db } from "../../lib/db/client.ts";
import { PROFILES_TABLE } from "../../lib/db/profiles.ts";

/** Writes a stored profile directly, as an operator or an earlier hook run would have left it. */
export async function storeProfile(
  userId: string,
  fields: { user_metadata?: object; app_metadata?: object; total_plays?: number; version?: number },
): Promise<void> {
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
        ...fields,
      },
    }),
  );
}
