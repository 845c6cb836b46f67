/**
 * A user's profile: its reads (alone, or with the counters' items in one BatchGetItem), its
 * metadata changes (read, compute, write, again on a lost race), the favourite genre, and the
 * items an account's deletion and a move-in write.
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { Refused } from "../refusals.ts";
import { CONTENTION, retry } from "../retry.ts";
import type { Metadata } from "../schemas/index.ts";
import { changeStamp, newVersion } from "./changes.ts";
import {
  batchGet,
  db,
  type NamedItems,
  readTogether,
  type TableRead,
  transactOnce,
  unmarshallItem,
} from "./client.ts";
import { COUNTERS_TABLE } from "./counters/table.ts";
import { firstSeenRead, seenKeys, type UserState, userStateRead } from "./counters/user.ts";
import { isConditionFailure } from "./errors.ts";
import {
  type IfVersion,
  METADATA_OBJECTS,
  type MetadataChange,
  metadataUpdate,
  PROFILES_TABLE,
  type ProfileItem,
  profileKey,
  sizedObject,
  versionMatches,
  WRITABLE,
} from "./profile-item.ts";

export interface Profile {
  userId: string;
  userMetadata: Metadata;
  appMetadata: Metadata;
  favGenre: string | null;
  /** 0 while nothing was ever written. */
  version: number;
  /** Its place in the change order sync pulls (lib/db/changes.ts); "0" while never stamped. */
  syncVersion: string;
  createdAt: string | null;
  updatedAt: string | null;
  deleting: boolean;
}

/** The raw item each Profile was made from: its sizes, which the Profile does not show. */
const itemOf = new WeakMap<Profile, ProfileItem>();

function fromItem(item: ProfileItem): Profile {
  const profile: Profile = {
    userId: item.user_id,
    userMetadata: item.user_metadata ?? {},
    appMetadata: item.app_metadata ?? {},
    favGenre: item.fav_genre ?? null,
    version: item.version ?? 0,
    syncVersion: item.sync_version ?? "0",
    createdAt: item.created_at ?? null,
    updatedAt: item.updated_at ?? null,
    deleting: item.deleting === true,
  };
  itemOf.set(profile, item);
  return profile;
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

/** The item a refused write found stored (ALL_OLD); undefined when there is none. */
function storedOnRefusal(error: unknown): ProfileItem | undefined {
  const item = (error as { Item?: Record<string, AttributeValue> }).Item;
  return item ? unmarshallItem<ProfileItem>(item) : undefined;
}

async function getProfileItem(userId: string): Promise<ProfileItem | undefined> {
  const { Item } = await db.send(
    new GetCommand({ TableName: PROFILES_TABLE, Key: profileKey(userId), ConsistentRead: true }),
  );
  return Item as ProfileItem | undefined;
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
 * Read, compute, write in one UpdateItem that changes only the keys the change names (see
 * `<kind>_sizes` above), checked against what is stored: so limits hold, no concurrent change is
 * lost, and writes of different keys never refuse each other. A write refused by the stored item
 * (ALL_OLD: a same-key write landed first, the object's first write raced another, the limit)
 * computes again from that item; after CONTENTION's attempts, RetriesExhausted (409
 * write_conflict), which only writers of the same keys can cause. `compute` returns undefined
 * when nothing needs to change: then nothing is written. Refusals: "precondition" (If-Match),
 * "not_found" (mustExist), "deleting".
 */
export function modifyMetadata(
  userId: string,
  compute: (current: Profile) => MetadataChange | undefined,
  options: ModifyOptions = {},
): Promise<{ profile: Profile; changed: boolean }> {
  const initial = options.initial && itemOf.get(options.initial);
  let lastSeen: { stored: ProfileItem | undefined } | undefined =
    "initial" in options && (initial || !options.initial) ? { stored: initial } : undefined;
  return retry(CONTENTION, async (_attempt, again) => {
    const stored = lastSeen ? lastSeen.stored : await getProfileItem(userId);
    if (!stored && options.mustExist && !options.known) throw new Refused("not_found");
    const item = stored ?? { user_id: userId };
    const current = fromItem(item);
    if (current.deleting) throw new Refused("deleting");
    if (options.precondition && !versionMatches(options.precondition, current.version)) {
      throw new Refused("precondition");
    }
    const together = options.together ?? {};
    const change = compute(current);
    if (!change || !METADATA_OBJECTS.some((kind) => change[kind])) {
      if (Object.keys(together).length > 0 && (await transactOnce(together))) return again;
      return { profile: current, changed: false };
    }
    // A user known only from songs or plays gets a profile; one stored must still be there.
    const update = metadataUpdate(item, change, {
      precondition: options.precondition,
      mustExist: !!options.mustExist && !!stored,
    });
    if (Object.keys(together).length > 0) {
      if ("profile" in together) throw new Error("the profile's own item is named profile");
      // Sent once: a refusal or a conflict is a lost race, computed again from a fresh read.
      const outcome = await transactOnce({
        ...together,
        profile: { Update: { ...update, ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const } },
      });
      if (outcome) {
        lastSeen = undefined;
        return again;
      }
      // A transaction answers no item: what the profile holds now is read.
      const written = await getProfile(userId);
      return { profile: written ?? current, changed: true };
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
      return { profile: fromItem(Attributes as ProfileItem), changed: true };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      lastSeen = { stored: storedOnRefusal(error) };
      return again;
    }
  });
}

/** Sets the favourite genre; a change the profile read shows, so the version moves too. */
export async function setFavGenre(userId: string, genre: string): Promise<void> {
  const now = new Date().toISOString();
  const stamp = changeStamp();
  try {
    await db.send(
      new UpdateCommand({
        TableName: PROFILES_TABLE,
        Key: profileKey(userId),
        UpdateExpression: `SET fav_genre = :genre, updated_at = :now, created_at = if_not_exists(created_at, :now), version = if_not_exists(version, :zero) + :one, ${stamp.set}`,
        ConditionExpression: WRITABLE,
        ExpressionAttributeValues: {
          ":genre": genre,
          ":now": now,
          ":zero": 0,
          ":one": 1,
          ...stamp.values,
        },
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

/**
 * Moving in all at once (`npm run import:auth0`): how many users one presence read covers. A
 * BatchGetItem holds 100 keys; each user takes their profile and the counters' seenKeys (3).
 */
export const MOVE_IN_BATCH = 25;

/**
 * Which of these users (at most MOVE_IN_BATCH) the store has seen: a profile (even one being
 * erased), a counter item, a tombstone or a deletion marker. One consistent BatchGetItem of key
 * attributes only, so that a rerun passes over users already moved in at a read's cost.
 */
export async function seenUsers(userIds: readonly string[]): Promise<Set<string>> {
  if (userIds.length > MOVE_IN_BATCH) throw new Error(`at most ${MOVE_IN_BATCH} users a read`);
  const unique = [...new Set(userIds)];
  const found = await batchGet({
    [PROFILES_TABLE]: {
      keys: unique.map(profileKey),
      consistent: true,
      projection: "user_id",
    },
    [COUNTERS_TABLE]: {
      keys: unique.flatMap(seenKeys),
      consistent: true,
      projection: "user_id, counter_id",
    },
  });
  return new Set(
    Object.values(found)
      .flat()
      .map((item) => item.user_id as string),
  );
}

/**
 * Puts the profile a never-seen user moves in with, whole, stored as the post-login hook's writes
 * store one (both objects with their sizes, version 1, a change stamp), only while no profile
 * item exists: so a profile written meanwhile (the hook's, the user's own) is never overwritten.
 * Answers whether it was written.
 */
export async function putMovedInProfile(
  userId: string,
  userMetadata: Metadata,
  appMetadata: Metadata,
): Promise<boolean> {
  const now = new Date().toISOString();
  try {
    await db.send(
      new PutCommand({
        TableName: PROFILES_TABLE,
        Item: {
          ...profileKey(userId),
          ...sizedObject("user_metadata", userMetadata),
          ...sizedObject("app_metadata", appMetadata),
          version: 1,
          sync_version: newVersion(),
          created_at: now,
          updated_at: now,
        },
        ConditionExpression: "attribute_not_exists(user_id)",
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}
