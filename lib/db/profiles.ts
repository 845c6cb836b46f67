import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { config } from "../config.ts";
import { Refused } from "../refusals.ts";
import { METADATA_CONTENTION, retry } from "../retry.ts";
import type { Metadata } from "../schemas/index.ts";
import {
  db,
  type NamedItems,
  readTogether,
  type TableRead,
  transactOnce,
  unmarshallItem,
} from "./client.ts";
import { firstSeenRead, type UserState, userStateRead } from "./counters.ts";
import { isConditionFailure } from "./errors.ts";

/**
 * The profiles table: one item per user, keyed by `user_id`, holding both metadata objects and
 * the favourite genre. `version` counts writes of anything a profile read shows: it is the ETag
 * and the guard against lost updates. `deleting` is set while the account is being erased.
 */
export const PROFILES_TABLE = config().tables.profiles;

export interface Profile {
  userId: string;
  userMetadata: Metadata;
  appMetadata: Metadata;
  favGenre: string | null;
  /** 0 while nothing was ever written. */
  version: number;
  createdAt: string | null;
  updatedAt: string | null;
  deleting: boolean;
}

interface ProfileItem {
  user_id: string;
  user_metadata?: Metadata;
  app_metadata?: Metadata;
  fav_genre?: string;
  version?: number;
  created_at?: string;
  updated_at?: string;
  deleting?: boolean;
}

export const profileKey = (userId: string) => ({ user_id: userId });

function fromItem(item: ProfileItem): Profile {
  return {
    userId: item.user_id,
    userMetadata: item.user_metadata ?? {},
    appMetadata: item.app_metadata ?? {},
    favGenre: item.fav_genre ?? null,
    version: item.version ?? 0,
    createdAt: item.created_at ?? null,
    updatedAt: item.updated_at ?? null,
    deleting: item.deleting === true,
  };
}

/** What a signed-in user with nothing stored has. */
export function emptyProfile(userId: string): Profile {
  return fromItem({ user_id: userId });
}

export async function getProfile(userId: string): Promise<Profile | undefined> {
  const { Item } = await db.send(
    new GetCommand({ TableName: PROFILES_TABLE, Key: profileKey(userId), ConsistentRead: true }),
  );
  return Item ? fromItem(Item as ProfileItem) : undefined;
}

/** The profile's item, read with other tables' items. */
function profileRead(userId: string): TableRead<Profile | undefined> {
  return {
    table: PROFILES_TABLE,
    keys: [profileKey(userId)],
    consistent: true,
    found: (items) => (items[0] ? fromItem(items[0] as unknown as ProfileItem) : undefined),
  };
}

/**
 * The profile and when the API first saw the user (their counter item), in one consistent
 * BatchGetItem: what the user object of `GET /users/{userId}` is made of.
 */
export function getUserRecord(
  userId: string,
): Promise<{ profile: Profile | undefined; firstSeenAt: string | undefined }> {
  return readTogether({ profile: profileRead(userId), firstSeenAt: firstSeenRead(userId) });
}

/** The profile and what the counters table knows of the user, in one consistent BatchGetItem. */
export async function getProfileAndCounters(
  userId: string,
): Promise<UserState & { profile: Profile | undefined }> {
  const { profile, state } = await readTogether({
    profile: profileRead(userId),
    state: userStateRead(userId),
  });
  return { profile, ...state };
}

/**
 * An If-Match as data: `*` (any profile a read shows) or the versions its ETags name. Strong
 * comparison only: weak tags were refused when the header was read.
 */
export type IfVersion = "*" | readonly number[];

function versionMatches(precondition: IfVersion, version: number): boolean {
  return precondition === "*" || precondition.includes(version);
}

/** The same test as a DynamoDB condition, for writes that must check it atomically. */
function versionCondition(precondition: IfVersion): {
  expression: string | undefined;
  values: Record<string, number>;
} {
  if (precondition === "*") return { expression: undefined, values: {} };
  // Tags that name no version (weak, or never issued): a condition no item meets, as "()" is
  // no condition DynamoDB accepts.
  if (precondition.length === 0)
    return {
      expression: "(attribute_exists(user_id) AND attribute_not_exists(user_id))",
      values: {},
    };
  const values = Object.fromEntries(precondition.map((v, i) => [`:v${i}`, v]));
  const tests = precondition.map((v, i) =>
    v === 0 ? "attribute_not_exists(version)" : `version = :v${i}`,
  );
  return {
    expression: `(${tests.join(" OR ")})`,
    values: Object.fromEntries(Object.entries(values).filter(([, v]) => v !== 0)),
  };
}

export interface MetadataPair {
  userMetadata: Metadata;
  appMetadata: Metadata;
}

const WRITABLE = "attribute_not_exists(deleting)";

/** What a refused write found stored; undefined when it cannot say (read again). */
type Lost = { stored: Profile | undefined } | undefined;

/**
 * Writes both metadata objects only if no other write landed since `current` was read, with
 * `extra` items in the same transaction when there are any. When another write won, answers
 * what it left: a lone write's refusal carries the stored item (ALL_OLD), so the next attempt
 * needs no read; a transaction's does not.
 */
async function writeMetadata(
  current: Profile,
  next: MetadataPair,
  mustExist: boolean,
  extra: NamedItems,
): Promise<{ written: Profile } | { lost: Lost }> {
  const now = new Date().toISOString();
  const unchanged = current.version === 0 ? "attribute_not_exists(version)" : "version = :expected";
  const update = {
    TableName: PROFILES_TABLE,
    Key: profileKey(current.userId),
    UpdateExpression:
      "SET user_metadata = :um, app_metadata = :am, version = :next, updated_at = :now, created_at = if_not_exists(created_at, :now)",
    ConditionExpression: `${unchanged} AND ${WRITABLE}${mustExist ? " AND attribute_exists(user_id)" : ""}`,
    ExpressionAttributeValues: {
      ":um": next.userMetadata,
      ":am": next.appMetadata,
      ":next": current.version + 1,
      ":now": now,
      ...(current.version === 0 ? {} : { ":expected": current.version }),
    },
  };
  if (Object.keys(extra).length > 0) {
    if ("profile" in extra) throw new Error("the profile's own item is named profile");
    // A transaction answers no item: the profile written is the one read, changed as asked.
    // Sent once: a refusal or a conflict is a lost race, which modifyMetadata's policy retries.
    if (await transactOnce({ ...extra, profile: { Update: update } })) return { lost: undefined };
    return {
      written: {
        ...current,
        ...next,
        version: current.version + 1,
        updatedAt: now,
        createdAt: current.createdAt ?? now,
      },
    };
  }
  try {
    const { Attributes } = await db.send(
      new UpdateCommand({
        ...update,
        ReturnValues: "ALL_NEW",
        // A lost race answers the stored item with the refusal: the next attempt needs no read.
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      }),
    );
    return { written: fromItem(Attributes as ProfileItem) };
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    return { lost: { stored: storedOnRefusal(error) } };
  }
}

/** The profile a refused metadata write found stored (undefined: none is). */
function storedOnRefusal(error: unknown): Profile | undefined {
  const item = (error as { Item?: Record<string, AttributeValue> }).Item;
  return item ? fromItem(unmarshallItem<ProfileItem>(item)) : undefined;
}

export interface ModifyOptions {
  /** The client's If-Match: when the stored version fails it, 412 and nothing is written. */
  precondition?: IfVersion | undefined;
  /** Operators change only profiles that exist: otherwise Refused("not_found"), nothing made. */
  mustExist?: boolean;
  /** A profile read already (first attempt only). */
  initial?: Profile | undefined;
  /**
   * Items written in the same transaction as the change (the tombstone whose denials the
   * change copies in, deleted), or alone when nothing needs to change.
   */
  together?: NamedItems;
  /** The user is known without a profile (songs, plays): mustExist lets the write create it. */
  known?: boolean;
}

/**
 * Read, compute, conditionally write; on a concurrent write, recompute from the item the refusal
 * answers (ALL_OLD; a transaction's refusal reads again) and write again, at most
 * METADATA_CONTENTION's attempts (then RetriesExhausted: 409 write_conflict with Retry-After).
 * Every write is checked against what is stored, so limits hold and no concurrent change is
 * lost. `compute` returns undefined when nothing needs to change: then nothing is written.
 * Refusals: "precondition" (If-Match), "not_found" (mustExist), "deleting".
 */
export function modifyMetadata(
  userId: string,
  compute: (current: Profile) => MetadataPair | undefined,
  options: ModifyOptions = {},
): Promise<{ profile: Profile; changed: boolean }> {
  let lastSeen: Lost = "initial" in options ? { stored: options.initial } : undefined;
  return retry(METADATA_CONTENTION, async (_attempt, again) => {
    const stored = lastSeen ? lastSeen.stored : await getProfile(userId);
    if (!stored && options.mustExist && !options.known) throw new Refused("not_found");
    const current = stored ?? emptyProfile(userId);
    if (current.deleting) throw new Refused("deleting");
    if (options.precondition && !versionMatches(options.precondition, current.version)) {
      throw new Refused("precondition");
    }
    const together = options.together ?? {};
    const next = compute(current);
    if (!next) {
      if (Object.keys(together).length > 0 && (await transactOnce(together))) return again;
      return { profile: current, changed: false };
    }
    // A user known only from songs or plays gets a profile; one stored must still be there.
    const mustExist = !!options.mustExist && !!stored;
    const outcome = await writeMetadata(current, next, mustExist, together);
    if ("written" in outcome) return { profile: outcome.written, changed: true };
    // Another write landed: what it left decides (a precondition on the old version fails).
    lastSeen = outcome.lost;
    return again;
  });
}

/** Sets the favourite genre; a change the profile read shows, so the version moves too. */
export async function setFavGenre(userId: string, genre: string): Promise<void> {
  const now = new Date().toISOString();
  try {
    await db.send(
      new UpdateCommand({
        TableName: PROFILES_TABLE,
        Key: profileKey(userId),
        UpdateExpression:
          "SET fav_genre = :genre, updated_at = :now, created_at = if_not_exists(created_at, :now), version = if_not_exists(version, :zero) + :one",
        ConditionExpression: WRITABLE,
        ExpressionAttributeValues: { ":genre": genre, ":now": now, ":zero": 0, ":one": 1 },
      }),
    );
  } catch (error) {
    if (isConditionFailure(error)) throw new Refused("deleting");
    throw error;
  }
}

/**
 * Transaction item: marks the profile as being deleted, atomically checking the If-Match (and,
 * for operators, that it exists). Its version is left as it is, so a retried DELETE with the
 * same If-Match goes on.
 */
export function markProfileDeleting(
  userId: string,
  precondition: IfVersion | undefined,
  mustExist: boolean,
) {
  const { expression, values } = versionCondition(precondition ?? "*");
  const conditions = [mustExist ? "attribute_exists(user_id)" : undefined, expression].filter(
    Boolean,
  );
  return {
    Update: {
      TableName: PROFILES_TABLE,
      Key: profileKey(userId),
      UpdateExpression: "SET deleting = :true",
      ExpressionAttributeValues: { ":true": true, ...values },
      ...(conditions.length ? { ConditionExpression: conditions.join(" AND ") } : {}),
      ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const,
    },
  };
}

export function deleteProfileItem(userId: string) {
  return { Delete: { TableName: PROFILES_TABLE, Key: profileKey(userId) } };
}

/** Transaction item: the profile erased but still marked, so every write to it stays refused. */
export function eraseProfileItem(userId: string) {
  return { Put: { TableName: PROFILES_TABLE, Item: { ...profileKey(userId), deleting: true } } };
}
