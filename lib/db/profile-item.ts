/**
 * The profiles table's item and how a metadata change is written to it: one UpdateItem that
 * changes only the keys the change names, checked against what is stored (lib/db/profiles.ts
 * reads, computes and retries around it).
 */
import { config } from "../config.ts";
import { own } from "../json.ts";
import { keyOf } from "../kinds/kind.ts";
import { PROFILE } from "../kinds/profile.ts";
import type { Metadata } from "../schemas/index.ts";
import { newVersion } from "./changes.ts";

/**
 * The profiles table: one item per user, keyed by `user_id`, holding both metadata objects (each a
 * map with one entry per top-level key, its entries' JSON sizes beside it: see `sizesOf`) and the
 * favourite genre. `version` counts writes of anything a profile read shows: it is the ETag and
 * the guard of If-Match. `deleting` is set while the account is being erased.
 */
export const PROFILES_TABLE = config().tables[PROFILE.table];

export const profileKey = (userId: string) => keyOf(PROFILE, userId);

export interface ProfileItem {
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

/**
 * An If-Match as data: `*` (any profile a read shows) or the versions its ETags name. Strong
 * comparison only: weak tags were refused when the header was read.
 */
export type IfVersion = "*" | readonly number[];

export function versionMatches(precondition: IfVersion, version: number): boolean {
  return precondition === "*" || precondition.includes(version);
}

/** The two metadata objects, as they are named in the item and in the user object. */
export type MetadataKind = "user_metadata" | "app_metadata";
export const METADATA_OBJECTS: readonly MetadataKind[] = ["user_metadata", "app_metadata"];

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

export const WRITABLE = "attribute_not_exists(deleting)";

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
export function metadataUpdate(
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
    for (const kind of METADATA_OBJECTS) {
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

/** An object written whole as a first write stores it: the object, its sizes and their sum. */
export function sizedObject(kind: MetadataKind, object: Metadata) {
  const sizes = Object.fromEntries(
    Object.entries(object).map(([key, value]) => [key, entryBytes(key, value)]),
  );
  return {
    [kind]: object,
    [sizesOf(kind)]: sizes,
    [bytesOf(kind)]: Object.values(sizes).reduce((sum, n) => sum + n, 0),
  };
}
