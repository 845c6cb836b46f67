import { describe, expect, it } from "vitest";
import { COUNTERS } from "../../../lib/kinds/counters.ts";
import type { ItemKind, TableKey } from "../../../lib/kinds/kind.ts";
import { PLAYLIST } from "../../../lib/kinds/playlist.ts";
import { PROFILE } from "../../../lib/kinds/profile.ts";
import { SONG } from "../../../lib/kinds/song.ts";
import { loadTableDefinitions } from "../../../scripts/local/serverless-config.ts";

const tables = loadTableDefinitions();
/** The variable config() reads a table's name from: `rateLimits` is RATE_LIMITS_TABLE. */
const envVarOf = (table: string) =>
  `${table.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}_TABLE`;

const definitionOf = (key: TableKey) => {
  const table = tables.find((t) => t.envVar === envVarOf(key.table));
  if (!table) throw new Error(`serverless.yml has no table named by ${envVarOf(key.table)}`);
  return table.properties;
};

const KINDS: ItemKind[] = [SONG, PLAYLIST, PROFILE];
/** Every table key declared: the item kinds', and the counters table's (its items answer nothing). */
const KEYS: TableKey[] = [...KINDS, COUNTERS];

describe("the item kinds' declarations", () => {
  it.each(KEYS.map((key) => [key.table, key] as const))(
    "%s: the key declared is the key of the table serverless.yml makes",
    (_, key) => {
      expect(definitionOf(key).KeySchema).toEqual([
        { AttributeName: key.partitionKey, KeyType: "HASH" },
        ...(key.sortKey ? [{ AttributeName: key.sortKey, KeyType: "RANGE" }] : []),
      ]);
    },
  );

  it.each(KINDS.map((kind) => [kind.table, kind] as const))(
    "%s: the id field is stored as the sort key, and the version is what sync's index sorts by",
    (_, kind) => {
      expect(kind.id === undefined ? undefined : kind.fields[kind.id]?.attribute).toBe(
        kind.sortKey,
      );
      const index = (definitionOf(kind).GlobalSecondaryIndexes ?? []) as {
        IndexName: string;
        KeySchema: { AttributeName: string; KeyType: string }[];
      }[];
      expect(index.find((i) => i.IndexName === "changes")?.KeySchema).toEqual([
        { AttributeName: kind.partitionKey, KeyType: "HASH" },
        { AttributeName: kind.version, KeyType: "RANGE" },
      ]);
    },
  );

  it.each(KINDS.map((kind) => [kind.table, kind] as const))(
    "%s: no two fields are stored in one attribute, nor in the partition key's or the version's",
    (_, kind) => {
      const attributes = Object.values(kind.fields).flatMap((f) => f.attribute ?? []);
      expect(new Set(attributes).size).toBe(attributes.length);
      expect(attributes).not.toContain(kind.partitionKey);
      expect(attributes).not.toContain(kind.version);
    },
  );
});
