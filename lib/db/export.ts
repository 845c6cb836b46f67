/**
 * The walk behind a user's data export (CONTRACT: Data rights): the user's songs, then their
 * playlists, each in key order, cut into pages by size rather than by count. A page's cursor
 * says where the walk stands (section, last key, the export's time) and is signed like the list
 * cursors, so a client cannot move it into another user's data or alter it (InvalidCursor).
 *
 * Consistency while the user writes: ids are time-ordered ULIDs, and each Query starts strictly
 * after the last key a page holds, so an item is never read twice. The walk is bounded by the
 * export's time: items whose id is later than `exportedAt` (created after the export began) are
 * left out. Every item created up to `exportedAt` is read once, as it stands when its page is
 * read (strongly consistent reads): one that is never deleted always appears, one deleted
 * before the walk reaches it is absent (its deletion came after `exportedAt`, and the item is
 * exported as of that later time), one changed appears once, before or after the change.
 */
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { ULID_PATTERN } from "../ids.ts";
import type { Playlist, Song } from "../schemas/answers.ts";
import { QUERY_UNITS_AT_MOST, readUnitsLeft } from "./capacity.ts";
import { db } from "./client.ts";
import { decodeCursor, encodeCursor } from "./cursor.ts";
import { InvalidCursor } from "./errors.ts";
import { partitionKey, type UserPartition } from "./pages.ts";
import { PLAYLISTS, type PlaylistItem, withPlays } from "./playlists.ts";
import { SONGS, songFromItem } from "./songs.ts";

/** What the cursors of this walk are bound to, beside the user. */
const SCOPE = "export";

type Section = "songs" | "playlists";

/** Where a walk stands: the section it is in, the last key it answered there, its start. */
export interface ExportPosition {
  section: Section;
  after?: string;
  exportedAt: string;
}

/** One page of the walk; `next` is undefined on the last. */
export interface ExportItems {
  songs: Song[];
  playlists: Playlist[];
  next: ExportPosition | undefined;
}

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/**
 * The least ULID of the millisecond after `exportedAt`: every id created up to `exportedAt`
 * sorts below it, every later one at or above it.
 */
function idBound(exportedAt: string): string {
  let t = Date.parse(exportedAt) + 1;
  let time = "";
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  return `${time}${"0".repeat(16)}`;
}

export function encodeExportCursor(userId: string, position: ExportPosition): Promise<string> {
  const key: Record<string, string> = { s: position.section, t: position.exportedAt };
  if (position.after) key.a = position.after;
  return encodeCursor(SCOPE, userId, key) as Promise<string>;
}

export async function decodeExportCursor(userId: string, cursor: string): Promise<ExportPosition> {
  const key = await decodeCursor(SCOPE, userId, cursor);
  const section = key?.s;
  const exportedAt = key?.t;
  const after = key?.a;
  if (
    (section !== "songs" && section !== "playlists") ||
    typeof exportedAt !== "string" ||
    Number.isNaN(Date.parse(exportedAt)) ||
    (after !== undefined && (typeof after !== "string" || !ULID_PATTERN.test(after)))
  ) {
    throw new InvalidCursor();
  }
  return { section, exportedAt, ...(after ? { after } : {}) };
}

const bytesOf = (value: unknown) => Buffer.byteLength(JSON.stringify(value), "utf8");

/**
 * The part of a user's partition after `after` and below `bound`, one Query (at most `limit`
 * items and 1 MB read).
 */
async function readAfter<Item>(
  partition: UserPartition,
  userId: string,
  after: string | undefined,
  bound: string,
  limit: number,
): Promise<{ items: Item[]; more: boolean }> {
  const read = await db.send(
    new QueryCommand({
      TableName: partition.table,
      KeyConditionExpression: "user_id = :user AND #sort < :bound",
      ExpressionAttributeNames: { "#sort": partition.sortKey },
      ExpressionAttributeValues: { ":user": userId, ":bound": bound },
      ConsistentRead: true,
      Limit: limit,
      ...(after ? { ExclusiveStartKey: partitionKey(partition, userId, after) } : {}),
    }),
  );
  return { items: (read.Items ?? []) as Item[], more: read.LastEvaluatedKey !== undefined };
}

/** Songs per Query: at most 1 MB is read whatever this says; 1,000 short songs fit in it. */
const SONGS_PER_READ = 1_000;
/** Playlists per Query: their plays come in one BatchGetItem, at most 100 keys. */
const PLAYLISTS_PER_READ = 100;
/** The most the next read of a section may cost: its Query, and for playlists their plays. */
const NEXT_READ_UNITS: Record<Section, number> = {
  songs: QUERY_UNITS_AT_MOST,
  playlists: QUERY_UNITS_AT_MOST + PLAYLISTS_PER_READ,
};

/** Whether the request may read on: the next read cannot take it past MAX_REQUEST_UNITS. */
const affordable = (section: Section) => NEXT_READ_UNITS[section] <= readUnitsLeft();

/**
 * The items of one page, from `position` on, until the next one would take the page past
 * `budget` bytes of JSON (each item's own JSON and the comma before it), or the next Query
 * could take the request past MAX_REQUEST_UNITS read (a page of the largest playlists is then
 * under 4 MB: it is cut by cost). Memory stays that of one page and one Query's answer; time,
 * that of about budget / 1 MB Queries. Every page reads at least once, so the walk moves on.
 */
export async function exportItems(
  userId: string,
  position: ExportPosition,
  budget: number,
): Promise<ExportItems> {
  const songs: Song[] = [];
  const playlists: Playlist[] = [];
  const bound = idBound(position.exportedAt);
  let used = 0;
  let { section, after } = position;
  const stop = (): ExportItems => ({
    songs,
    playlists,
    next: { section, exportedAt: position.exportedAt, ...(after ? { after } : {}) },
  });
  const fits = (bytes: number) => used + bytes + 1 <= budget;
  let reads = 0;
  const mayRead = () => reads++ === 0 || affordable(section);
  while (section === "songs") {
    if (!mayRead()) return stop();
    const read = await readAfter<Record<string, unknown>>(
      SONGS,
      userId,
      after,
      bound,
      SONGS_PER_READ,
    );
    for (const item of read.items) {
      const song = songFromItem(item);
      const bytes = bytesOf(song);
      if (!fits(bytes)) return stop();
      songs.push(song);
      used += bytes + 1;
      after = song.songId;
    }
    if (!read.more) {
      section = "playlists";
      after = undefined;
    }
  }
  for (;;) {
    if (!mayRead()) return stop();
    const read = await readAfter<PlaylistItem>(PLAYLISTS, userId, after, bound, PLAYLISTS_PER_READ);
    for (const playlist of await withPlays(userId, read.items, true)) {
      const bytes = bytesOf(playlist);
      if (!fits(bytes)) return stop();
      playlists.push(playlist);
      used += bytes + 1;
      after = playlist.playlistId;
    }
    if (!read.more) return { songs, playlists, next: undefined };
  }
}
