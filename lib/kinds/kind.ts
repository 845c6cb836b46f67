/**
 * An item kind, declared once as a route is (docs/adding-a-route.md: Adding an item kind): its
 * table and key, each field of its API shape with the stored attribute that holds it, which
 * fields a device may write and how each merges, and the attribute of its version. The table
 * module maps items by it (`fromItem`, `attributesOf`, `keyOf`), lib/schemas/answers.ts builds
 * its answer from it, sync merges by it (lib/domain/kinds.ts), and tests/unit/lib/kinds.test.ts
 * holds its key to the table `serverless.yml` declares. Plain data and small functions, no zod:
 * a table module loads it at no cost.
 */
import type { TableNames } from "../config.ts";

/**
 * How a device's change of a field merges with the server's (lib/domain/kinds.ts): `replace`
 * one value, `list` a list of ids, `map` an object key by key.
 */
export type MergeRule = "replace" | "list" | "map";

/** What a field holds: text, a list of ids, a whole number, a flag, a metadata object. */
export type FieldType = "string" | "ids" | "int" | "boolean" | "metadata";

interface FieldSpec {
  /** The stored attribute that holds it; none: the table module computes it when read. */
  attribute?: string;
  type: FieldType;
  /**
   * A device's change of it through sync: merged by its rule, `refused` (only the API writes
   * it: 403), or, when absent, ignored (set once when the item is made: its id, its times).
   */
  sync?: MergeRule | "refused";
}

/** A table's key: its partition key attribute and its sort key attribute, if any. */
export interface TableKey {
  /** Its table, as config().tables names it. */
  table: keyof TableNames;
  partitionKey: string;
  sortKey?: string;
}

export interface ItemKind extends TableKey {
  /** The field whose attribute is the sort key: the item's id. */
  id?: string;
  /** Its API shape, in the order answers show it. */
  fields: Record<string, FieldSpec>;
  /** The attribute of its version: its place in sync's change order (lib/db/changes.ts). */
  version: string;
}

type TypeOf<T extends FieldType> = T extends "string"
  ? string
  : T extends "ids"
    ? string[]
    : T extends "int"
      ? number
      : T extends "boolean"
        ? boolean
        : Record<string, unknown>;

/** Its API shape: every field, stored or computed. */
export type ValueOf<K extends ItemKind> = {
  -readonly [F in keyof K["fields"]]: TypeOf<K["fields"][F]["type"]>;
};

/** The fields the table module computes when read (no attribute holds them). */
export type ComputedOf<K extends ItemKind> = Pick<
  ValueOf<K>,
  {
    [F in keyof K["fields"]]: K["fields"][F] extends { attribute: string } ? never : F;
  }[keyof K["fields"]]
>;

type Item = Record<string, unknown>;

/** A stored item as the API shows it, with the fields computed from elsewhere. */
export function fromItem<K extends ItemKind>(
  kind: K,
  item: Item,
  computed: ComputedOf<K>,
): ValueOf<K> {
  const value: Item = {};
  for (const [field, spec] of Object.entries(kind.fields)) {
    if (spec.attribute === undefined) value[field] = (computed as Item)[field];
    // A list stored before it held anything may have been left out.
    else value[field] = item[spec.attribute] ?? (spec.type === "ids" ? [] : undefined);
  }
  return value as ValueOf<K>;
}

/** The stored attributes of a value (its key's partition attribute aside). */
export function attributesOf<K extends ItemKind>(kind: K, value: ValueOf<K>): Item {
  const item: Item = {};
  for (const [field, spec] of Object.entries(kind.fields)) {
    if (spec.attribute !== undefined) item[spec.attribute] = (value as Item)[field];
  }
  return item;
}

/** The key of the item of `owner` (the partition) with id `id` (the sort key, if any). */
export function keyOf(kind: TableKey, owner: string, id?: string): Record<string, string> {
  return {
    [kind.partitionKey]: owner,
    ...(kind.sortKey === undefined || id === undefined ? {} : { [kind.sortKey]: id }),
  };
}

/** The version an item holds: "0" for one never stamped. */
export function versionOf(kind: ItemKind, item: Item): string {
  const version = item[kind.version];
  return typeof version === "string" ? version : "0";
}

/**
 * The SET clauses of a change of some stored fields, each attribute by a placeholder (so a
 * reserved word such as `name` needs no care); `names` is empty when nothing changes. Other
 * fields of `changes` are not the item's to set (its id, a PATCH's addSongIds, a playlist's
 * plays).
 */
export function setsOf<K extends ItemKind>(kind: K, changes: Partial<ValueOf<K>>) {
  const sets: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(changes)) {
    const attribute = (kind.fields as Record<string, FieldSpec>)[field]?.attribute;
    // A key attribute is never SET: DynamoDB refuses to change an item's key.
    if (value === undefined || attribute === undefined || attribute === kind.sortKey) continue;
    const n = sets.length;
    sets.push(`#f${n} = :f${n}`);
    names[`#f${n}`] = attribute;
    values[`:f${n}`] = value;
  }
  return { sets, names, values };
}
