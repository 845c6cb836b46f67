/**
 * Moving in all at once, in process against DynamoDB Local: who counts as seen, what one batch
 * costs, and that the import's profile is the one the hook would have made (a login after it
 * ends where a login alone does, item sizes included, and later writes of single keys work).
 */
import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { handler } from "../../../functions/postLogin.ts";
import { db } from "../../../lib/db/client.ts";
import { COUNTERS_TABLE } from "../../../lib/db/counters/table.ts";
import { userCounterKey } from "../../../lib/db/counters/user.ts";
import { PROFILES_TABLE } from "../../../lib/db/profile-item.ts";
import { modifyMetadata } from "../../../lib/db/profiles.ts";
import { migrationOf } from "../../../lib/domain/migration.ts";
import { moveInBatch } from "../../../lib/domain/moving-in.ts";
import { dynamoCallsOf } from "../../helpers/calls.ts";
import { asFunction, lambdaContext, loadEvent } from "../../helpers/invoke.ts";
import { storeProfile } from "../../helpers/profiles.ts";
import { uniqueUser } from "../../helpers/tokens.ts";

const AUTH0 = {
  user_metadata: { theme: "dark", lang: "fr", volume: 0.8, "bad.key": 1 },
  app_metadata: { plan: "pro", roles: ["admin"] },
};

const entry = (userId: string, metadata = AUTH0) => ({
  userId,
  migration: migrationOf(metadata.user_metadata, metadata.app_metadata),
});

async function item(userId: string) {
  const { Item } = await db.send(
    new GetCommand({ TableName: PROFILES_TABLE, Key: { user_id: userId }, ConsistentRead: true }),
  );
  return Item;
}

/** The hook's login of `userId`, with Auth0's metadata in the event. */
// biome-ignore lint/suspicious/noExplicitAny: the hook's answer, read by assertions.
async function login(userId: string): Promise<any> {
  const event = loadEvent("postLogin-first-login") as unknown as { user: object };
  return asFunction("postLogin", () =>
    handler({ ...event, user: { ...event.user, user_id: userId, ...AUTH0 } }, lambdaContext()),
  );
}

describe("moving in all at once", () => {
  it("writes unseen users, one BatchGetItem and one PutItem each for the batch", async () => {
    const users = Array.from({ length: 25 }, () => uniqueUser("auth0"));
    let outcomes: string[] = [];
    const calls = await dynamoCallsOf(async () => {
      outcomes = await moveInBatch(users.map((u) => entry(u)));
    });
    expect(outcomes).toEqual(users.map(() => "imported"));
    expect(calls.filter((c) => c === "BatchGetItemCommand")).toHaveLength(1);
    expect(calls.filter((c) => c === "PutItemCommand")).toHaveLength(25);
    expect(calls).toHaveLength(26);
    // Again: a read only, nothing written.
    const again = await dynamoCallsOf(async () => {
      outcomes = await moveInBatch(users.map((u) => entry(u)));
    });
    expect(outcomes).toEqual(users.map(() => "present"));
    expect(again).toEqual(["BatchGetItemCommand"]);
  });

  it("leaves every user the store has seen as they are: a profile, a counter, a tombstone, a deletion", async () => {
    const [profiled, counted, erased, deleting, fresh, empty] = Array.from({ length: 6 }, () =>
      uniqueUser("auth0"),
    ) as [string, string, string, string, string, string];
    await storeProfile(profiled, { user_metadata: { theme: "light" } });
    await db.send(
      new PutCommand({ TableName: COUNTERS_TABLE, Item: { ...userCounterKey(counted), songs: 1 } }),
    );
    await db.send(
      new PutCommand({
        TableName: COUNTERS_TABLE,
        Item: { user_id: erased, counter_id: "tombstone", denied_roles: [] },
      }),
    );
    await db.send(
      new PutCommand({
        TableName: COUNTERS_TABLE,
        Item: { user_id: deleting, counter_id: "deletion", started_at: new Date().toISOString() },
      }),
    );
    const outcomes = await moveInBatch([
      entry(profiled),
      entry(counted),
      entry(erased),
      entry(deleting),
      entry(fresh),
      entry(empty, { user_metadata: { "a.b": 1 } as never, app_metadata: { roles: [] } as never }),
    ]);
    expect(outcomes).toEqual(["present", "present", "present", "present", "imported", "nothing"]);
    expect((await item(profiled))?.user_metadata).toEqual({ theme: "light" });
    for (const userId of [counted, erased, deleting, empty]) {
      expect(await item(userId)).toBeUndefined();
    }
  });

  it("ends where the hook alone ends: a login after the import, and a write of one key after it", async () => {
    const imported = uniqueUser("auth0");
    const hookOnly = uniqueUser("auth0");
    expect(await moveInBatch([entry(imported)])).toEqual(["imported"]);
    const afterImport = await login(imported);
    const alone = await login(hookOnly);
    // The login found a profile: nothing moved this time, and the same profile as a login alone.
    expect(afterImport.migration).toEqual({ moved: [], skipped: [] });
    expect(alone.migration).toEqual({ moved: ["theme", "lang", "volume"], skipped: ["bad.key"] });
    expect(afterImport.user_metadata).toEqual(alone.user_metadata);
    expect(afterImport.app_metadata).toEqual(alone.app_metadata);
    const [a, b] = [await item(imported), await item(hookOnly)];
    for (const field of [
      "user_metadata",
      "user_metadata_sizes",
      "user_metadata_bytes",
      "app_metadata",
      "app_metadata_sizes",
      "app_metadata_bytes",
    ]) {
      expect([field, a?.[field]]).toEqual([field, b?.[field]]);
    }
    // One key written after: the sizes the import stored let it change that key alone.
    const { profile } = await modifyMetadata(imported, () => ({
      user_metadata: { patch: { theme: "light" }, maxBytes: 32 * 1024 },
    }));
    expect(profile.userMetadata.theme).toBe("light");
    const stored = await item(imported);
    expect(stored?.user_metadata_bytes).toBe(
      Buffer.byteLength(JSON.stringify(stored?.user_metadata)) - 1,
    );
  });
});
