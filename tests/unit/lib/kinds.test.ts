import { describe, expect, it } from "vitest";
import { COUNTERS } from "../../../lib/kinds/counters.ts";
import {
  attributesOf,
  fromItem,
  type ItemKind,
  keyOf,
  setsOf,
  type TableKey,
  versionOf,
} from "../../../lib/kinds/kind.ts";
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

describe("the mapping a declaration gives", () => {
  const song = {
    songId: "01J0000000000000000000000A",
    songName: "A",
    genre: "pop",
    createdAt: "t",
  };

  it("stores a value under its attributes and reads it back, in the declared order", () => {
    const item = { ...keyOf(SONG, "u1", song.songId), ...attributesOf(SONG, song) };
    expect(item).toEqual({
      user_id: "u1",
      song_id: song.songId,
      song_name: "A",
      genre: "pop",
      created_at: "t",
    });
    expect(Object.keys(fromItem(SONG, item, {}))).toEqual(Object.keys(SONG.fields));
    expect(fromItem(SONG, item, {})).toEqual(song);
    expect(versionOf(SONG, item)).toBe("0");
    expect(versionOf(SONG, { ...item, sync_version: "v" })).toBe("v");
  });

  it("adds the computed fields, and an id list never stored reads empty", () => {
    const item = { playlist_id: "p", name: "n", created_at: "c", updated_at: "u" };
    expect(fromItem(PLAYLIST, item, { plays: 3, featured: false })).toEqual({
      playlistId: "p",
      name: "n",
      songIds: [],
      plays: 3,
      featured: false,
      createdAt: "c",
      updatedAt: "u",
    });
  });

  it("sets only stored fields that are no key, each attribute by a placeholder", () => {
    const changes = { playlistId: "p", name: "n", plays: 1, addSongIds: ["x"] };
    expect(setsOf(PLAYLIST, changes as Parameters<typeof setsOf<typeof PLAYLIST>>[1])).toEqual({
      sets: ["#f0 = :f0"],
      names: { "#f0": "name" },
      values: { ":f0": "n" },
    });
  });
});
