/**
 * A transaction's items are named, and its refusal says which of them refused by name, with
 * what each refusing item found stored: against DynamoDB Local, through lib/db/client.ts. The
 * meaning of a refusal (lib/db/refusals.ts) is read off those names, never off positions.
 */
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { db, transact } from "../../../lib/db/client.ts";
import { COUNTERS_TABLE } from "../../../lib/db/counters/table.ts";
import { newRecord, RECORD_ITEM } from "../../../lib/db/idempotency.ts";
import { refusalOf } from "../../../lib/db/refusals.ts";
import { SONGS_TABLE } from "../../../lib/db/songs.ts";
import { uniqueUser } from "../../helpers/tokens.ts";

const counter = (userId: string, name: string) => ({ user_id: userId, counter_id: name });

/** A condition on a counter item: it must not exist; refused, it answers what is stored. */
const mustBeAbsent = (userId: string, name: string) => ({
  ConditionCheck: {
    TableName: COUNTERS_TABLE,
    Key: counter(userId, name),
    ConditionExpression: "attribute_not_exists(counter_id)",
    ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const,
  },
});

const song = (userId: string, songId: string) => ({
  Put: {
    TableName: SONGS_TABLE,
    Item: { user_id: userId, song_id: songId, song_name: "s", genre: "g", created_at: "t" },
  },
});

describe("named transactions", () => {
  it("names each item that refused, with what it found stored, and none that did not", async () => {
    const userId = uniqueUser();
    await db.send(
      new PutCommand({ TableName: COUNTERS_TABLE, Item: { ...counter(userId, "b"), plays: 7 } }),
    );
    await db.send(new PutCommand({ TableName: COUNTERS_TABLE, Item: counter(userId, "d") }));
    const refusal = await transact({
      first: song(userId, "S1"),
      second: mustBeAbsent(userId, "b"),
      third: mustBeAbsent(userId, "c"),
      fourth: mustBeAbsent(userId, "d"),
    });
    expect(refusal && [...refusal.failed].sort()).toEqual(["fourth", "second"]);
    expect(refusal?.items.second).toEqual({ ...counter(userId, "b"), plays: 7 });
    expect(refusal?.items.fourth).toEqual(counter(userId, "d"));
    expect(refusal?.items.third).toBeUndefined();
    // The first refused item, in the transaction's order, says what the refusal means.
    expect(refusalOf(refusal, { second: "not_found", fourth: "quota" })).toBe("not_found");
    expect(() => refusalOf(refusal, { fourth: "quota" })).toThrow(/second/);
  });

  it("leaves an absent item out and commits the rest", async () => {
    const userId = uniqueUser();
    const refusal = await transact({
      song: song(userId, "S1"),
      none: undefined,
      check: mustBeAbsent(userId, "x"),
    });
    expect(refusal).toBeUndefined();
  });

  it("reads the refusal's meaning off the names: the key's record first, then by meaning", async () => {
    const userId = uniqueUser();
    const record = newRecord(`record-${userId}`, "hash");
    expect(await transact({ ...record })).toBeUndefined();
    await db.send(new PutCommand({ TableName: COUNTERS_TABLE, Item: counter(userId, "q") }));
    const items = { quota: mustBeAbsent(userId, "q"), ...record };
    // Both refuse: an earlier request with the same key wins over the quota.
    const both = await transact(items);
    expect([...(both?.failed ?? [])].sort()).toEqual([RECORD_ITEM, "quota"].sort());
    expect(refusalOf(both, { quota: "quota" })).toBe("duplicate_key");
    const quotaOnly = await transact({ quota: mustBeAbsent(userId, "q") });
    expect(refusalOf(quotaOnly, { quota: "quota" })).toBe("quota");
    // A refusal nobody gave a meaning is a bug, said by the item's name.
    expect(() => refusalOf(quotaOnly, {})).toThrow(/quota/);
  });

  it("says an item that refused because the account is being deleted means deleting", async () => {
    const userId = uniqueUser();
    await db.send(
      new PutCommand({
        TableName: COUNTERS_TABLE,
        Item: { ...counter(userId, "user"), deleting: true },
      }),
    );
    const refusal = await transact({ account: mustBeAbsent(userId, "user") });
    expect(refusalOf(refusal, { account: "quota" })).toBe("deleting");
  });
});
