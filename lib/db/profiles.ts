import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { config } from "../config.ts";
import { own } from "../json.ts";
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
import {
  COUNTERS_TABLE,
  firstSeenRead,
  seenKeys,
  type UserState,
  userStateRead,
} from "./counters.ts";
import { isConditionFailure } from "./errors.ts";

/**
 * The profiles table: one item per user, keyed by `user_id`, holding both metadata objects (each a
 * map with one entry per top-level key, its entries' JSON sizes beside it: see `sizesOf`) and the
 * favourite genre. `version` counts writes of anything a profile read shows: it is the ETag and
 * the guard of If-Match. `deleting` is set while the account is being erased.
 */
export const PROFILES_TABLE = config().tables.profiles;

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

interface ProfileItem {
  user_id: string;
  user_metadata?: Metadata;
  app_metadata?: Metadata;
  user_metadata_sizes?: Record<string, number>;
  user_metadata_bytes?: number;
  app_metadata_sizes?: Record<string, number>;
  app_metadata_bytes?: number;
  fav_genre?: string;
  version?: number;
  sync_version?: string;
  created_at?: string;
  updated_at?: string;
  deleting?: boolean;
}

export const profileKey = (userId: string) => ({ user_id: userId });

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

/** The two metadata objects, as they are named in the item and in the user object. */
type MetadataKind = "user_metadata" | "app_metadata";
const KINDS: readonly MetadataKind[] = ["user_metadata", "app_metadata"];

/**
 * A change of one metadata object, Auth0's way: `{}` clears it; otherwise each key's value
 * replaces the stored one whole, and `null` removes the key.
 */
interface ObjectChange {
  patch: Metadata;
  /**
   * At most this many bytes of JSON after the change, checked by the write against what is
   * stored then; when it would pass it, `compute` runs again on what is stored (and refuses).
   */
  maxBytes?: number;
  /**
   * The values were computed from the same keys' stored values (the post-login rules): the change
   * lands only while those keys still hold what `compute` saw, else `compute` runs again.
   */
  fromStored?: boolean;
}

export type MetadataChange = Partial<Record<MetadataKind, ObjectChange>>;

const WRITABLE = "attribute_not_exists(deleting)";

/**
 * What each metadata object's JSON size is made of, kept beside it: `<kind>_sizes` maps each
 * top-level key to the bytes of its entry in the object's JSON (`"key":value` and a comma),
 * `<kind>_bytes` is their sum, so the object's JSON is `<kind>_bytes + 1` bytes (2 when empty).
 * A write of some keys changes only those keys' entries (`SET user_metadata.#k = :v`) and ADDs
 * the difference to the sum under a condition on it: writes of different keys never refuse each
 * other, and the 32 kB limit holds against concurrent writers. An object stored before the sizes
 * existed (or never written) has none: its first write writes it whole, with its sizes.
 */
const sizesOf = (kind: MetadataKind) => `${kind}_sizes` as const;
const bytesOf = (kind: MetadataKind) => `${kind}_bytes` as const;

/** The bytes `key: value` adds to an object's JSON (with its separating comma). */
function entryBytes(key: string, value: unknown): number {
  return Buffer.byteLength(`${JSON.stringify(key)}:${JSON.stringify(value)},`, "utf8");
}

/** What is stored of one object: its keys' entry sizes, or undefined when it has none yet. */
function storedSizes(item: ProfileItem, kind: MetadataKind): Record<string, number> | undefined {
  if (typeof item[`${kind}_bytes`] !== "number") return undefined;
  return item[`${kind}_sizes`] ?? {};
}

/**
 * The longest UpdateExpression or ConditionExpression DynamoDB accepts is 4 KB: a change of more
 * keys than fit is written whole instead, conditional on the object being as read.
 */
const MAX_EXPRESSION = 4_000;

/** One UpdateItem's expression parts, built up object by object. */
class UpdateParts {
  readonly set: string[] = [];
  readonly remove: string[] = [];
  readonly add: string[] = [];
  readonly conditions: string[] = [];
  readonly names: Record<string, string> = {};
  readonly values: Record<string, unknown> = {};
  private next = 0;

  name(text: string): string {
    const placeholder = `#${(this.next++).toString(36)}`;
    this.names[placeholder] = text;
    return placeholder;
  }

  value(value: unknown): string {
    const placeholder = `:${(this.next++).toString(36)}`;
    this.values[placeholder] = value;
    return placeholder;
  }

  get update(): string {
    return [
      this.set.length ? `SET ${this.set.join(", ")}` : "",
      this.remove.length ? `REMOVE ${this.remove.join(", ")}` : "",
      this.add.length ? `ADD ${this.add.join(", ")}` : "",
    ]
      .filter(Boolean)
      .join(" ");
  }

  get condition(): string {
    return this.conditions.join(" AND ");
  }
}

/** The object written whole: `{}` cleared, a first write, or more keys than an expression holds. */
function wholeObject(
  parts: UpdateParts,
  kind: MetadataKind,
  stored: Metadata | undefined,
  change: ObjectChange,
): void {
  const object = parts.name(kind);
  const cleared = Object.keys(change.patch).length === 0;
  const merged: Metadata = cleared ? {} : { ...stored };
  if (!cleared) {
    for (const [key, value] of Object.entries(change.patch)) {
      if (value === null) delete merged[key];
      else merged[key] = value;
    }
  }
  const sizes = Object.fromEntries(
    Object.entries(merged).map(([key, value]) => [key, entryBytes(key, value)]),
  );
  const total = Object.values(sizes).reduce((sum, n) => sum + n, 0);
  parts.set.push(
    `${object} = ${parts.value(merged)}`,
    `${parts.name(sizesOf(kind))} = ${parts.value(sizes)}`,
    `${parts.name(bytesOf(kind))} = ${parts.value(total)}`,
  );
  // A clear wins over whatever is stored; a merge needs the object as it was read.
  if (!cleared) {
    parts.conditions.push(
      stored === undefined
        ? `attribute_not_exists(${object})`
        : `${object} = ${parts.value(stored)}`,
    );
  }
}

/** The object changed key by key: each key's entry, its size, and the sum by the difference. */
function keyedObject(
  parts: UpdateParts,
  kind: MetadataKind,
  stored: Metadata,
  sizes: Record<string, number>,
  change: ObjectChange,
): void {
  // Named only when used: a change removing absent keys alone never names the object, and
  // DynamoDB refuses a name no expression uses.
  let objectName: string | undefined;
  const object = () => (objectName ??= parts.name(kind));
  const sizesName = parts.name(sizesOf(kind));
  const bytes = parts.name(bytesOf(kind));
  let delta = 0;
  for (const [key, value] of Object.entries(change.patch)) {
    const k = parts.name(key);
    const before = own(sizes, key);
    // The key's size as read: a concurrent write of the same key refuses this one (the sum
    // would drift), while writes of other keys never do.
    parts.conditions.push(
      before === undefined
        ? `attribute_not_exists(${sizesName}.${k})`
        : `${sizesName}.${k} = ${parts.value(before)}`,
    );
    if (change.fromStored) {
      parts.conditions.push(
        own(stored, key) === undefined
          ? `attribute_not_exists(${object()}.${k})`
          : `${object()}.${k} = ${parts.value(own(stored, key))}`,
      );
    }
    if (value === null) {
      if (before === undefined) continue;
      parts.remove.push(`${object()}.${k}`, `${sizesName}.${k}`);
      delta -= before;
    } else {
      const after = entryBytes(key, value);
      parts.set.push(
        `${object()}.${k} = ${parts.value(value)}`,
        `${sizesName}.${k} = ${parts.value(after)}`,
      );
      delta += after - (before ?? 0);
    }
  }
  parts.add.push(`${bytes} ${parts.value(delta)}`);
  // The object's JSON is the sum plus one byte: at most maxBytes once the difference is added.
  parts.conditions.push(
    change.maxBytes === undefined
      ? `attribute_exists(${bytes})`
      : `${bytes} <= ${parts.value(change.maxBytes - 1 - delta)}`,
  );
}

/**
 * The one UpdateItem of a metadata change: each object key by key when its sizes are stored, else
 * whole; the version moves (the ETag), the account must not be being deleted, and with an If-Match
 * the stored version must match it.
 */
function metadataUpdate(
  stored: ProfileItem,
  change: MetadataChange,
  options: { precondition?: IfVersion | undefined; mustExist: boolean },
) {
  const build = (keyed: boolean) => {
    const parts = new UpdateParts();
    const now = parts.value(new Date().toISOString());
    parts.set.push(
      `${parts.name("updated_at")} = ${now}`,
      `${parts.name("created_at")} = if_not_exists(${parts.name("created_at")}, ${now})`,
    );
    parts.add.push(`${parts.name("version")} ${parts.value(1)}`);
    parts.set.push(`${parts.name("sync_version")} = ${parts.value(newVersion())}`);
    parts.conditions.push(WRITABLE);
    if (options.mustExist) parts.conditions.push("attribute_exists(user_id)");
    if (options.precondition && options.precondition !== "*") {
      const version = parts.name("version");
      const tests = options.precondition.map((v) =>
        v === 0 ? `attribute_not_exists(${version})` : `${version} = ${parts.value(v)}`,
      );
      parts.conditions.push(`(${tests.join(" OR ")})`);
    }
    for (const kind of KINDS) {
      const objectChange = change[kind];
      if (!objectChange) continue;
      const sizes = storedSizes(stored, kind);
      const object = stored[kind];
      if (keyed && sizes && Object.keys(objectChange.patch).length > 0) {
        keyedObject(parts, kind, object ?? {}, sizes, objectChange);
      } else {
        wholeObject(parts, kind, object, objectChange);
      }
    }
    return parts;
  };
  let parts = build(true);
  if (parts.update.length > MAX_EXPRESSION || parts.condition.length > MAX_EXPRESSION) {
    parts = build(false);
  }
  return {
    TableName: PROFILES_TABLE,
    Key: profileKey(stored.user_id),
    UpdateExpression: parts.update,
    ConditionExpression: parts.condition,
    ExpressionAttributeNames: parts.names,
    ExpressionAttributeValues: parts.values,
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
    if (!change || !KINDS.some((kind) => change[kind])) {
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
  const sized = (kind: MetadataKind, object: Metadata) => {
    const sizes = Object.fromEntries(
      Object.entries(object).map(([key, value]) => [key, entryBytes(key, value)]),
    );
    return {
      [kind]: object,
      [sizesOf(kind)]: sizes,
      [bytesOf(kind)]: Object.values(sizes).reduce((sum, n) => sum + n, 0),
    };
  };
  try {
    await db.send(
      new PutCommand({
        TableName: PROFILES_TABLE,
        Item: {
          ...profileKey(userId),
          ...sized("user_metadata", userMetadata),
          ...sized("app_metadata", appMetadata),
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
