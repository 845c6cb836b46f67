/**
 * The user's library on this device (docs/offline-app.md): songs, playlists and the profile in
 * IndexedDB through Dexie, one database per user id, so that a second user of the browser never
 * reads the first one's. Screens read from here and write here first; app/sync.ts exchanges the
 * changes with the API (GET and POST /sync, docs/sync.md) and sends the plays kept here.
 */
import { Dexie, type EntityTable } from "dexie";
import { newId } from "../lib/ids.ts";

export type Collection = "songs" | "playlists" | "profile";
export type Data = Record<string, unknown>;

/** An item as the API reports it in GET and POST /sync. */
export interface Doc {
  collection: Collection;
  id: string;
  version: string;
  deleted: boolean;
  data: Data | null;
}

/** One song, playlist or the profile, as this device holds it. */
export interface Item {
  /** `${collection}/${id}`. */
  key: string;
  collection: Collection;
  id: string;
  /** What the person sees: the last state pulled, with their own changes; null once deleted. */
  data: Data | null;
  /** The item as last pulled: the common ancestor of the next push (null: created here). */
  base: Doc | null;
  /** 1 while a change waits for a push (IndexedDB indexes numbers, not booleans). */
  pending: 0 | 1;
  /** Counts local changes: a push's answer replaces only the data that push carried. */
  edits: number;
  /** The API's message when it refused this item's last change. */
  refused?: string;
  /** A conflict the API reported on it, shown until the person dismisses it. */
  notice?: string;
}

/** A play made while the API could not be reached: sent later with its time. */
interface QueuedPlay {
  /** Its Idempotency-Key too, so that a resent play counts once. */
  key: string;
  playlistId: string;
  playedAt: string;
}

interface Meta {
  name: "checkpoint" | "totalPlays";
  value: string | number;
}

export type LibraryDb = Dexie & {
  items: EntityTable<Item, "key">;
  plays: EntityTable<QueuedPlay, "key">;
  meta: EntityTable<Meta, "name">;
};

const PREFIX = "music-library:";

export function openLibrary(userId: string): LibraryDb {
  const db = new Dexie(`${PREFIX}${userId}`) as LibraryDb;
  db.version(1).stores({ items: "key, collection, pending", plays: "key, playedAt", meta: "name" });
  return db;
}

/**
 * Deletes the copies this browser holds of every user but `keep` (none: all of them): at
 * logout, and when another user logs in after a session that ended without one.
 */
export async function forgetLibraries(keep?: string): Promise<void> {
  const names = await Dexie.getDatabaseNames();
  const others = names.filter((name) => name.startsWith(PREFIX) && name !== `${PREFIX}${keep}`);
  await Promise.all(others.map((name) => Dexie.delete(name)));
}

export const keyOf = (collection: Collection, id: string) => `${collection}/${id}`;

/** The fields a device may write, per kind (CONTRACT: Sync): what a push carries. */
export function writable(collection: Collection, data: Data): Data {
  const fields =
    collection === "songs"
      ? ["songName", "genre"]
      : collection === "playlists"
        ? ["name", "songIds"]
        : ["user_metadata", "favGenre"];
  return Object.fromEntries(fields.map((field) => [field, data[field]]));
}

/** Writes the person's new state of an item (null: deleted), queued for the next push. */
export function change(
  db: LibraryDb,
  collection: Collection,
  id: string,
  update: (data: Data) => Data | null,
): Promise<void> {
  return db.transaction("rw", db.items, async () => {
    const key = keyOf(collection, id);
    const item = await db.items.get(key);
    const data = update(item?.data ?? {});
    // Created here and never pushed: deleting it leaves nothing to tell the API.
    if (data === null && !item?.base) {
      await db.items.delete(key);
      return;
    }
    await db.items.put({
      key,
      collection,
      id,
      data,
      base: item?.base ?? null,
      pending: 1,
      edits: (item?.edits ?? 0) + 1,
      notice: item?.notice,
    });
  });
}

/** A new song or playlist with a device-chosen ULID, as the API's own ids. */
export async function create(db: LibraryDb, collection: Collection, data: Data): Promise<string> {
  const id = newId();
  const idField = collection === "songs" ? "songId" : "playlistId";
  await change(db, collection, id, () => ({ ...data, [idField]: id }));
  return id;
}

/** Forgets an item's refusal or conflict once the person has read it. */
export async function dismiss(db: LibraryDb, item: Item): Promise<void> {
  // A refused item the API does not hold (a refused create, a deleted playlist) goes with it.
  if (item.refused && (!item.base || item.base.deleted)) await db.items.delete(item.key);
  else await db.items.update(item.key, { refused: undefined, notice: undefined });
}

export function queuePlay(db: LibraryDb, playlistId: string, playedAt: Date): Promise<unknown> {
  return db.plays.put({
    key: crypto.randomUUID(),
    playlistId,
    playedAt: playedAt.toISOString(),
  });
}
