import { GetCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { config } from "../config.ts";
import { ULID_PATTERN } from "../ids.ts";
import type { WriteRefusal } from "../refusals.ts";
import type { FeaturedPlaylist, Playlist as UserPlaylist } from "../schemas/answers.ts";
import type { PlaylistChanges, PlaylistInput } from "../schemas/library.ts";
import { batchGet, CONFLICT, db, transact, transactOnce } from "./client.ts";
import { featuredIdsOf, releaseFeaturedPlace, takeFeaturedPlace } from "./counters/featured.ts";
import { userNotDeleting } from "./counters/user.ts";
import { decodeCursor, encodeCursor } from "./cursor.ts";
import { InvalidCursor, isConditionFailure } from "./errors.ts";
import type { RecordItems } from "./idempotency.ts";
import type { Page, Read } from "./pages.ts";
import { type PlaylistSongs, playlistSongsOf, removeSongsFrom } from "./playlist-songs.ts";
import {
  newPlaylist,
  type PlaylistItem,
  playlistFromItem,
  playlistItem,
  playlistUpdate,
} from "./playlists.ts";
import { refusalOf } from "./refusals.ts";

/**
 * Featured playlists: editorial, readable by all, each created by an editor (`created_by`, whose
 * songs it lists) and last changed by `updated_by`. Their own table: partition `shelf`, sort
 * `playlist_id` (a ULID, so a Query lists them in creation order, page after page).
 * - shelf "live": what the list shows, one partition. Every home screen reads it, so a
 *   container keeps the pages it read (listFeatured) under the live shelf's version stamp.
 * - shelf "version", sort "live": the stamp, one tiny item whose `version` every change of the
 *   live shelf bumps once it has landed (create, change, delete, restore, a song leaving).
 * - shelf "deleted": deleted playlists, restorable for 30 days (`expires_at`, DynamoDB's TTL
 *   removes them later; a restore checks the time itself, as TTL runs late).
 * They are never played: `plays` stays 0. Each editor's quota is the set of their live ids in
 * the counters table (counter_id "featured"), written in the same transactions.
 */
export const FEATURED_TABLE = config().tables.featured;

const LIVE = "live";
const DELETED = "deleted";
/** How long a deleted featured playlist may be restored. */
const RESTORABLE_DAYS = 30;

/** The live partition of a featured playlist: one today, derivable from the id if sharded. */
const shelfOf = (_playlistId: string) => LIVE;
const STAMP_KEY = { shelf: "version", playlist_id: LIVE };
const liveKey = (playlistId: string) => ({ shelf: shelfOf(playlistId), playlist_id: playlistId });
const deletedKey = (playlistId: string) => ({ shelf: DELETED, playlist_id: playlistId });

/**
 * Marks the live shelf changed, after the change landed and before its request answers: a
 * reader that reads the stamp afterwards finds a version newer than any page cached before the
 * change. Not inside the change's transaction: featured writes of different editors would then
 * all conflict on this one item. A bump lost after its change (a timeout between the two) leaves
 * caches stale for at most featuredCacheSeconds.
 */
async function bumpVersion(): Promise<void> {
  await db.send(
    new UpdateCommand({
      TableName: FEATURED_TABLE,
      Key: STAMP_KEY,
      UpdateExpression: "ADD version :one",
      ExpressionAttributeValues: { ":one": 1 },
    }),
  );
}

/** Runs a change of the live shelf and bumps the stamp when it changed something. */
async function changing<T>(write: Promise<T>, changed: (result: T) => boolean): Promise<T> {
  const result = await write;
  if (changed(result)) await bumpVersion();
  return result;
}

/** Cursors of the shared list are bound to the caller all the same. */
const LIST = "featured";

interface FeaturedItem extends PlaylistItem {
  shelf: string;
  playlist_id: string;
  created_by: string;
  updated_by: string;
  deleted_at?: string;
  deleted_by?: string;
  /** Epoch seconds: when a deleted one can no longer be restored (DynamoDB's TTL attribute). */
  expires_at?: number;
}

function fromItem(item: FeaturedItem): FeaturedPlaylist {
  return {
    ...playlistFromItem(item, 0, true),
    createdBy: item.created_by,
    updatedBy: item.updated_by ?? item.created_by,
  };
}

function liveItem(playlist: FeaturedPlaylist): FeaturedItem {
  return {
    ...liveKey(playlist.playlistId),
    ...playlistItem(playlist),
    plays: 0,
    created_by: playlist.createdBy,
    updated_by: playlist.updatedBy,
  };
}

/** A featured playlist about to be created by `editor`: a fresh time-ordered id. */
export function newFeatured(input: PlaylistInput, editor: string): FeaturedPlaylist {
  const playlist: UserPlaylist = newPlaylist(input, true);
  return { ...playlist, createdBy: editor, updatedBy: editor };
}

/**
 * Stores a new featured playlist within its editor's quota (`max`), with the request's
 * idempotency record (when it has a key), all or nothing. Refusals: quota, deleting,
 * duplicate_key.
 */
export async function putFeatured(
  playlist: FeaturedPlaylist,
  max: number,
  record: RecordItems = {},
): Promise<WriteRefusal | undefined> {
  const refusal = await changing(
    transact({
      playlist: {
        Put: {
          TableName: FEATURED_TABLE,
          Item: liveItem(playlist),
          ConditionExpression: "attribute_not_exists(playlist_id)",
        },
      },
      quota: takeFeaturedPlace(playlist.createdBy, playlist.playlistId, max),
      // In the write, not read before it: an erasure racing the create would otherwise leave a
      // playlist and a quota entry of the account it is erasing.
      editor: userNotDeleting(playlist.createdBy),
      ...record,
    }),
    (refused) => refused === undefined,
  );
  return refusalOf(refusal, { quota: "quota", editor: "deleting" });
}

/** A live featured playlist (a consistent read); undefined when there is none. */
export async function getFeatured(playlistId: string): Promise<FeaturedPlaylist | undefined> {
  const { Item } = await db.send(
    new GetCommand({ TableName: FEATURED_TABLE, Key: liveKey(playlistId), ConsistentRead: true }),
  );
  return Item ? fromItem(Item as FeaturedItem) : undefined;
}

/**
 * Changes a live featured playlist of `createdBy` (its creator never changes; the condition
 * makes sure the playlist the caller's rights were checked on is still the one written).
 * Undefined when it is gone.
 */
export async function updateFeatured(
  playlistId: string,
  createdBy: string,
  changes: PlaylistChanges,
  updatedBy: string,
): Promise<FeaturedPlaylist | undefined> {
  const update = playlistUpdate(changes);
  try {
    const { Attributes } = await db.send(
      new UpdateCommand({
        TableName: FEATURED_TABLE,
        Key: liveKey(playlistId),
        UpdateExpression: `${update.UpdateExpression}, updated_by = :by`,
        ConditionExpression: "created_by = :creator",
        ...(update.ExpressionAttributeNames
          ? { ExpressionAttributeNames: update.ExpressionAttributeNames }
          : {}),
        ExpressionAttributeValues: {
          ...update.ExpressionAttributeValues,
          ":by": updatedBy,
          ":creator": createdBy,
        },
        ReturnValues: "ALL_NEW",
      }),
    );
    await bumpVersion();
    return fromItem(Attributes as FeaturedItem);
  } catch (error) {
    if (isConditionFailure(error)) return undefined;
    throw error;
  }
}

/**
 * Moves a live featured playlist, as `seen` (read just before), to the deleted shelf for
 * RESTORABLE_DAYS, and gives its place in the creator's quota back: one transaction. Refused
 * (not_found) when it is gone or changed since it was read, or when a concurrent write cancelled
 * it: sent once, the caller's own retry reads it again (no retry inside a retry).
 */
export async function trashFeatured(
  seen: FeaturedPlaylist,
  deletedBy: string,
  now = new Date(),
): Promise<WriteRefusal | undefined> {
  const refusal = await changing(
    transactOnce({
      live: {
        Delete: {
          TableName: FEATURED_TABLE,
          Key: liveKey(seen.playlistId),
          ConditionExpression: "updated_at = :seen",
          ExpressionAttributeValues: { ":seen": seen.updatedAt },
        },
      },
      deleted: {
        Put: {
          TableName: FEATURED_TABLE,
          Item: {
            ...liveItem(seen),
            ...deletedKey(seen.playlistId),
            deleted_at: now.toISOString(),
            deleted_by: deletedBy,
            expires_at: Math.floor(now.getTime() / 1000) + RESTORABLE_DAYS * 86_400,
          },
        },
      },
      quota: releaseFeaturedPlace(seen.createdBy, seen.playlistId),
    }),
    (refused) => refused === undefined,
  );
  return refusal === CONFLICT ? "not_found" : refusalOf(refusal, { live: "not_found" });
}

/** A deleted featured playlist still restorable at `now`; undefined otherwise. */
export async function getDeletedFeatured(
  playlistId: string,
  now = new Date(),
): Promise<FeaturedPlaylist | undefined> {
  const { Item } = await db.send(
    new GetCommand({
      TableName: FEATURED_TABLE,
      Key: deletedKey(playlistId),
      ConsistentRead: true,
    }),
  );
  const item = Item as FeaturedItem | undefined;
  if (!item || (item.expires_at ?? 0) <= Math.floor(now.getTime() / 1000)) return undefined;
  return fromItem(item);
}

/**
 * Puts a deleted featured playlist back on the live shelf as `restored`, taking a place in its
 * creator's quota again (`max`): one transaction. Refusals: not_found (restored by someone else
 * meanwhile, or past its time), quota.
 */
export async function restoreFeatured(
  restored: FeaturedPlaylist,
  max: number,
  now = new Date(),
): Promise<WriteRefusal | undefined> {
  const refusal = await changing(
    transact({
      deleted: {
        Delete: {
          TableName: FEATURED_TABLE,
          Key: deletedKey(restored.playlistId),
          ConditionExpression: "expires_at > :now",
          ExpressionAttributeValues: { ":now": Math.floor(now.getTime() / 1000) },
        },
      },
      live: {
        Put: {
          TableName: FEATURED_TABLE,
          Item: liveItem(restored),
          ConditionExpression: "attribute_not_exists(playlist_id)",
        },
      },
      quota: takeFeaturedPlace(restored.createdBy, restored.playlistId, max),
    }),
    (refused) => refused === undefined,
  );
  return refusalOf(refusal, { deleted: "not_found", live: "not_found", quota: "quota" });
}

/** The stamp as a consistent read sees it now (0 before the first change). */
async function readVersion(): Promise<number> {
  const { Item } = await db.send(
    new GetCommand({
      TableName: FEATURED_TABLE,
      Key: STAMP_KEY,
      ConsistentRead: true,
      ProjectionExpression: "version",
    }),
  );
  return typeof Item?.version === "number" ? Item.version : 0;
}

let versionInFlight: Promise<number> | undefined;
let versionNext: Promise<number> | undefined;

/**
 * The stamp for a request that starts now: one consistent read in flight per container. A
 * request never joins a read sent before it arrived (that read may predate a change the caller
 * has just seen answered); requests arriving meanwhile share the next read, sent when it ends.
 */
function currentVersion(): Promise<number> {
  if (!versionInFlight) {
    versionInFlight = readVersion().finally(() => {
      versionInFlight = undefined;
    });
    return versionInFlight;
  }
  versionNext ??= versionInFlight
    .catch(() => undefined)
    .then(() => {
      versionNext = undefined;
      return currentVersion();
    });
  return versionNext;
}

interface CachedBlock {
  version: number;
  readAt: number;
  read: Promise<Read<FeaturedItem>>;
}

/**
 * Blocks this container read, by the id they start after ("" for the first): at most
 * BLOCKS_KEPT of them (a block is at most 1 MB), the oldest dropped first. A block read under a
 * stamp holds every change bumped up to it, since the stamp is read before the block and bumped
 * after each change.
 */
const blocksRead = new Map<string, CachedBlock>();
const BLOCKS_KEPT = 16;
/** Items a block holds (the most a page asks for), whatever `limit` a caller sends. */
const BLOCK_ITEMS = 100;

/** One block of the live shelf after `after`: cached under the stamp, or read once. */
function blockAfter(after: string, version: number, maxAgeMs: number): Promise<Read<FeaturedItem>> {
  const now = Date.now();
  const cached = blocksRead.get(after);
  if (cached && cached.version >= version && now - cached.readAt < maxAgeMs) return cached.read;
  // Eventually consistent: half the units of a consistent read. The stamp, read consistently
  // first, still names the change; a read that lags it by DynamoDB's replication (under a
  // second) is replaced at the next change or after FEATURED_CACHE_SECONDS.
  const read = db.send(
    new QueryCommand({
      TableName: FEATURED_TABLE,
      KeyConditionExpression: "#shelf = :shelf",
      ExpressionAttributeNames: { "#shelf": "shelf" },
      ExpressionAttributeValues: { ":shelf": LIVE },
      Limit: BLOCK_ITEMS,
      ...(after ? { ExclusiveStartKey: { shelf: LIVE, playlist_id: after } } : {}),
    }),
  ) as Promise<Read<FeaturedItem>>;
  if (maxAgeMs > 0) {
    const entry = { version, readAt: now, read };
    blocksRead.delete(after);
    blocksRead.set(after, entry);
    if (blocksRead.size > BLOCKS_KEPT) blocksRead.delete(blocksRead.keys().next().value as string);
    // A failed read is not kept: the next request tries again.
    read.catch(() => {
      if (blocksRead.get(after) === entry) blocksRead.delete(after);
    });
  }
  return read;
}

/** Where a page of the list starts: after an id, inside the block that starts after `block`. */
async function positionOf(caller: string, cursor: string | undefined) {
  const key = await decodeCursor(LIST, caller, cursor);
  if (!key) return { block: "", after: "" };
  const { playlist_id: after, b: block = after } = key;
  if (!ULID_PATTERN.test(after ?? "") || !(block === "" || ULID_PATTERN.test(block ?? ""))) {
    throw new InvalidCursor();
  }
  return { block: block as string, after: after as string };
}

/**
 * A page of the live featured playlists in creation order. Each request reads the stamp (one
 * consistent GetItem of a tiny item, 1 read unit) and slices its page out of fixed blocks of the
 * shelf (BLOCK_ITEMS items or 1 MB, each one Query) that this container read under that version,
 * so the list costs the same whatever `limit` or `cursor` a caller sends: a page asking for
 * other sizes or starts finds the same blocks. A page's cursor names the block it ends in. So a
 * change leaves the list at once for every caller, and the shelf's partition sees about one
 * Query per block per container per change instead of one per home screen.
 */
export async function listFeatured(
  caller: string,
  limit: number,
  cursor: string | undefined,
): Promise<Page<FeaturedPlaylist>> {
  let { block, after } = await positionOf(caller, cursor);
  const maxAgeMs = config().featuredCacheSeconds * 1000;
  const version = maxAgeMs > 0 ? await currentVersion() : 0;
  const page: FeaturedItem[] = [];
  // At most two blocks: the one the cursor names, and the next when it stood at that one's end.
  for (let reads = 0; reads < 2; reads++) {
    const { Items = [], LastEvaluatedKey } = await blockAfter(block, version, maxAgeMs);
    const rest = Items.filter((item) => item.playlist_id > after);
    const taken = rest.slice(0, limit - page.length);
    page.push(...taken);
    const end = LastEvaluatedKey?.playlist_id as string | undefined;
    const last = page.at(-1)?.playlist_id;
    // A page ends with its block (a block is at most 1 MB, so is a page): it moves on to the
    // next block only when its cursor stood at the end of this one.
    if (page.length > 0 || end === undefined) {
      const more = rest.length > taken.length || end !== undefined;
      const next =
        more && last ? await encodeCursor(LIST, caller, { playlist_id: last, b: block }) : null;
      return { items: page.map(fromItem), nextCursor: next };
    }
    block = end;
    after = last ?? after;
  }
  const last = page.at(-1)?.playlist_id ?? after;
  return {
    items: page.map(fromItem),
    nextCursor: await encodeCursor(LIST, caller, { playlist_id: last, b: block }),
  };
}

/**
 * The songs of the editor's live featured playlists: the editor's ids (one GetItem), then those
 * playlists' songs (one consistent BatchGetItem per 100; at most MAX_FEATURED_PER_EDITOR).
 */
export async function editorFeatured(editor: string): Promise<PlaylistSongs[]> {
  const ids = await featuredIdsOf(editor);
  const found: PlaylistSongs[] = [];
  for (let i = 0; i < ids.length; i += 100) {
    const batch = await batchGet({
      [FEATURED_TABLE]: {
        keys: ids.slice(i, i + 100).map(liveKey),
        consistent: true,
        projection: "playlist_id, song_ids",
      },
    });
    found.push(...(batch[FEATURED_TABLE] ?? []).map(playlistSongsOf));
  }
  return found;
}

/** The editor's live featured playlists that list `songId` (editorFeatured, filtered). */
export async function editorFeaturedListing(
  editor: string,
  songId: string,
): Promise<PlaylistSongs[]> {
  return (await editorFeatured(editor)).filter((playlist) => playlist.songIds.includes(songId));
}

/** Takes `songIds` out of a live featured playlist (removeSongs, on the featured table). */
export async function removeFeaturedSongs(
  playlistId: string,
  songIds: ReadonlySet<string>,
  known: string[],
): Promise<void> {
  await removeSongsFrom(FEATURED_TABLE, liveKey(playlistId), songIds, known);
  await bumpVersion();
}
