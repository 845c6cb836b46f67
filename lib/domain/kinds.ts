/**
 * The synced item kinds as sync sees their declarations (lib/kinds/): which fields a device may
 * write, how each merges, and which fields no device may write (CONTRACT: Sync). The push
 * (lib/domain/sync.ts) validates and merges by them, and the merge itself is a pure function,
 * tested as properties (tests/property/merge.test.ts).
 *
 * Merge rules, with the device's last pulled state as the common ancestor:
 * - `replace`: one side changed it: that side's value; both, to different values: the pushed one,
 *   and the value it replaced is a conflict.
 * - `list` (a playlist's songIds): an id added on either side is there once, an id removed on
 *   either side is gone, the device's order first and the server's additions after it.
 * - `map` (user_metadata): each top-level key merges as `replace` (absent = removed).
 */
import { own } from "../json.ts";
import type { ItemKind, MergeRule } from "../kinds/kind.ts";
import { PLAYLIST } from "../kinds/playlist.ts";
import { PROFILE } from "../kinds/profile.ts";
import { SONG } from "../kinds/song.ts";

export interface Kind {
  /** Fields a device writes, with their rule. */
  writable: Record<string, MergeRule>;
  /** Fields only the API writes: a change to one is refused (403). */
  forbidden: readonly string[];
  /** Fields a Doc carries that a device sends back unchanged, and that are ignored. */
  readOnly: readonly string[];
}

/** What sync needs of an item kind's declaration (lib/kinds/): its fields by what a device may do. */
function syncKind(kind: ItemKind): Kind {
  const fields = Object.entries(kind.fields);
  return {
    writable: Object.fromEntries(
      fields.flatMap(([field, { sync }]) => (sync && sync !== "refused" ? [[field, sync]] : [])),
    ),
    forbidden: fields.flatMap(([field, { sync }]) => (sync === "refused" ? [field] : [])),
    readOnly: fields.flatMap(([field, { sync }]) => (sync === undefined ? [field] : [])),
  };
}

export const KINDS = {
  songs: syncKind(SONG),
  playlists: syncKind(PLAYLIST),
  profile: syncKind(PROFILE),
} as const satisfies Record<string, Kind>;

export type Fields = Record<string, unknown>;

/** Both sides changed one field (or metadata key) to different values: what was kept, what went. */
export interface Conflict {
  field: string;
  kept: unknown;
  replaced: unknown;
}

/** Deep equality of JSON values (object key order aside). */
export function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => same(v, b[i]));
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return (
    ka.length === kb.length &&
    ka.every((k) => Object.hasOwn(b, k) && same((a as Fields)[k], (b as Fields)[k]))
  );
}

/** Three-way merge of one replaced value; `field` names it in a conflict. */
function mergeValue(
  field: string,
  ancestor: unknown,
  server: unknown,
  pushed: unknown,
  conflicts: Conflict[],
): unknown {
  if (same(pushed, ancestor)) return server;
  if (same(server, ancestor) || same(server, pushed)) return pushed;
  conflicts.push({ field, kept: pushed ?? null, replaced: server ?? null });
  return pushed;
}

/** Three-way merge of id lists: additions of both sides kept once, removals of either applied. */
export function mergeList(ancestor: string[], server: string[], pushed: string[]): string[] {
  const before = new Set(ancestor);
  const onServer = new Set(server);
  const pushedSet = new Set(pushed);
  const kept = new Set<string>();
  const result: string[] = [];
  const add = (id: string) => {
    if (!kept.has(id)) {
      kept.add(id);
      result.push(id);
    }
  };
  // The device's order, less what the server removed since the ancestor.
  for (const id of pushed) if (!(before.has(id) && !onServer.has(id))) add(id);
  // Then what the server added since, unless the device removed it too.
  for (const id of server) if (!before.has(id) && !pushedSet.has(id)) add(id);
  return result;
}

/** Three-way merge of a map by top-level key; a conflict names `field.key`. */
function mergeMap(
  field: string,
  ancestor: Fields,
  server: Fields,
  pushed: Fields,
  conflicts: Conflict[],
): Fields {
  const result: Fields = {};
  const keys = new Set([...Object.keys(server), ...Object.keys(pushed), ...Object.keys(ancestor)]);
  for (const key of keys) {
    const value = mergeValue(
      `${field}.${key}`,
      own(ancestor, key),
      own(server, key),
      own(pushed, key),
      conflicts,
    );
    if (value !== undefined && value !== null) result[key] = value;
  }
  return result;
}

const asList = (v: unknown) => (Array.isArray(v) ? (v as string[]) : []);
const asMap = (v: unknown) => (v && typeof v === "object" ? (v as Fields) : {});

/**
 * The merge of a device's change with what the server holds, field by field over `kind`'s
 * writable fields, taking `ancestor` (the device's last pulled state) as the common ancestor.
 * A writable field the push leaves out is taken as unchanged by the device.
 */
export function merge(
  kind: Kind,
  ancestor: Fields,
  server: Fields,
  pushed: Fields,
): { merged: Fields; conflicts: Conflict[] } {
  const conflicts: Conflict[] = [];
  const merged: Fields = {};
  for (const [field, rule] of Object.entries(kind.writable)) {
    const a = ancestor[field];
    const s = server[field];
    const p = Object.hasOwn(pushed, field) ? pushed[field] : a;
    if (rule === "list") {
      merged[field] = same(p, a) ? s : mergeList(asList(a), asList(s), asList(p));
    } else if (rule === "map") {
      merged[field] = same(p, a) ? s : mergeMap(field, asMap(a), asMap(s), asMap(p), conflicts);
    } else {
      merged[field] = mergeValue(field, a, s, p, conflicts);
    }
  }
  return { merged, conflicts };
}

/** The writable fields of a state. */
export function writableOf(kind: Kind, data: Fields): Fields {
  return Object.fromEntries(Object.keys(kind.writable).map((f) => [f, data[f]]));
}
