/**
 * Sync (CONTRACT: Sync; docs/sync.md): pulls from the per-user change order (lib/db/changes.ts)
 * and pushes merged field by field (lib/domain/kinds.ts) through the same writes the REST routes
 * make, so what a push writes is what the routes answer next, and the other way round.
 *
 * The checkpoint is opaque to devices: base64url JSON `{ b, d }`, `b` a version every change at
 * or below which was delivered, `d` marks (lib/db/changes.ts deliveredMark) of what was delivered
 * above it. `b` never passes `now - SETTLE_MS`: a write stamped before that point may not be
 * visible yet (clock versions land out of order), so the pull after reads that window again and
 * skips what `d` says it delivered. Pulling until `documents` is empty thus ends, and misses
 * nothing that landed late.
 */

import { config } from "../config.ts";
import { readUnitsLeft } from "../db/capacity.ts";
import {
  type Change,
  type Collection,
  changesAfter,
  deliveredMark,
  SETTLE_MS,
  TOMBSTONE_DAYS,
  tombstoneKey,
  versionTime,
} from "../db/changes.ts";
import { batchGet } from "../db/client.ts";
import { COUNTERS_TABLE } from "../db/counters/table.ts";
import {
  deletePlaylist,
  getVersionedPlaylist,
  newPlaylist,
  putPlaylist,
  updatePlaylist,
  type VersionedPlaylist,
  versionedPlaylists,
} from "../db/playlists.ts";
import { getProfile, type Profile } from "../db/profiles.ts";
import {
  getVersionedSong,
  newSong,
  putSong,
  updateSong,
  type VersionedSong,
  versionedSongs,
} from "../db/songs.ts";
import {
  BadRequestError,
  ConflictError,
  ForbiddenError,
  GoneError,
  NotFoundError,
} from "../errors.ts";
import { ULID_PATTERN } from "../ids.ts";
import { own } from "../json.ts";
import { Refused } from "../refusals.ts";
import { CONTENTION, retry } from "../retry.ts";
import { parse } from "../schemas/index.ts";
import { PlaylistFields, SongBody } from "../schemas/library.ts";
import { GenreBody } from "../schemas/profile.ts";
import type { Doc, SyncChange } from "../schemas/sync.ts";
import { type Conflict, type Fields, KINDS, type Kind, merge, same, writableOf } from "./kinds.ts";
import { chooseFavGenre, patchMetadata } from "./profile.ts";
import { checkSongIds, deleteSongEverywhere, settleSongIds } from "./songs.ts";

const { maxSongsPerUser, maxPlaylistsPerUser } = config();

// ---- Pull -------------------------------------------------------------------------------------

interface Checkpoint {
  /** Every change at or below this version was delivered. */
  b: string;
  /** Marks of changes above `b` delivered already, each `<version time, base 36>.<mark>`. */
  d: string[];
}

const START: Checkpoint = { b: "0", d: [] };

function encodeCheckpoint(checkpoint: Checkpoint): string {
  return Buffer.from(JSON.stringify(checkpoint)).toString("base64url");
}

function decodeCheckpoint(text: string | undefined): Checkpoint {
  if (text === undefined) return START;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
  } catch {
    value = undefined;
  }
  const c = value as Partial<Checkpoint> | undefined;
  if (
    !c ||
    typeof c.b !== "string" ||
    !/^(0|\d{13}(\.[\w-]{4})?)$/.test(c.b) ||
    !Array.isArray(c.d) ||
    !c.d.every((m) => typeof m === "string" && /^[0-9a-z]{1,12}\.[\w-]{8}$/.test(m))
  ) {
    throw new BadRequestError(
      "checkpoint was not issued by GET /sync: send the last answer's checkpoint unchanged, or none to start over",
      "invalid_checkpoint",
    );
  }
  if (c.b !== "0" && versionTime(c.b) < Date.now() - TOMBSTONE_DAYS * 86_400_000) {
    throw new GoneError(
      `This checkpoint is older than the ${TOMBSTONE_DAYS} days deletions are kept: pull from the beginning (no checkpoint)`,
    );
  }
  return { b: c.b, d: c.d };
}

const markOf = (c: Pick<Change, "collection" | "id" | "version">) =>
  `${versionTime(c.version).toString(36)}.${deliveredMark(c)}`;

const songDoc = ({ song, version }: VersionedSong): Doc => ({
  collection: "songs",
  id: song.songId,
  version,
  deleted: false,
  data: song,
});

const playlistDoc = ({ playlist, version }: VersionedPlaylist): Doc => ({
  collection: "playlists",
  id: playlist.playlistId,
  version,
  deleted: false,
  data: playlist,
});

const profileDoc = (profile: Profile): Doc => ({
  collection: "profile",
  id: profile.userId,
  version: profile.syncVersion,
  deleted: false,
  data: {
    user_metadata: profile.userMetadata,
    app_metadata: profile.appMetadata,
    favGenre: profile.favGenre,
  },
});

const deletedDoc = (collection: Collection, id: string, version: string): Doc => ({
  collection,
  id,
  version,
  deleted: true,
  data: null,
});

/** Keys per BatchGetItem (a playlist takes two: the item and its plays). */
const SONGS_PER_READ = 100;
const PLAYLISTS_PER_READ = 50;

async function inChunks<T>(ids: string[], size: number, read: (ids: string[]) => Promise<T[]>) {
  const chunks: Promise<T[]>[] = [];
  for (let i = 0; i < ids.length; i += size) chunks.push(read(ids.slice(i, i + size)));
  return (await Promise.all(chunks)).flat();
}

/** The current state of each changed item: one consistent read per 100 keys. */
async function docsOf(userId: string, changes: Change[]): Promise<Doc[]> {
  const ids = (collection: Collection) =>
    changes.filter((c) => c.collection === collection && !c.deleted).map((c) => c.id);
  const [songs, playlists, profile] = await Promise.all([
    inChunks(ids("songs"), SONGS_PER_READ, (chunk) => versionedSongs(userId, chunk)),
    inChunks(ids("playlists"), PLAYLISTS_PER_READ, (chunk) => versionedPlaylists(userId, chunk)),
    ids("profile").length ? getProfile(userId) : undefined,
  ]);
  const found = new Map<string, Doc>();
  for (const s of songs) found.set(`songs/${s.song.songId}`, songDoc(s));
  for (const p of playlists) found.set(`playlists/${p.playlist.playlistId}`, playlistDoc(p));
  if (profile && !profile.deleting) found.set(`profile/${userId}`, profileDoc(profile));
  // An item gone since its entry was read is left out: its tombstone comes later in the order.
  return changes.flatMap((c) =>
    c.deleted
      ? [deletedDoc(c.collection, c.id, c.version)]
      : (found.get(`${c.collection}/${c.id}`) ?? []),
  );
}

/**
 * The most one item's consistent read may cost, by collection: a song is under 4 KB; a playlist
 * of 500 ids under 16 KB, with its plays' counter; a profile two 32 kB metadata objects and more.
 */
const READ_UNITS_AT_MOST: Record<Collection, number> = { songs: 1, playlists: 5, profile: 17 };

/** The first of `changes` whose reads keep the request within MAX_REQUEST_UNITS (one at least). */
function withinCost(changes: Change[]): Change[] {
  let left = readUnitsLeft();
  const taken: Change[] = [];
  for (const change of changes) {
    const cost = change.deleted ? 0 : READ_UNITS_AT_MOST[change.collection];
    if (cost > left && taken.length > 0) break;
    left -= cost;
    taken.push(change);
  }
  return taken;
}

/**
 * GET /sync: up to `limit` items changed after the checkpoint (fewer when their reads would take
 * the request past MAX_REQUEST_UNITS: pages are cut by cost), each in its latest state, and the
 * checkpoint to go on from. Costs one Query of keys per table (the changes since the checkpoint,
 * and at most SETTLE_MS of changes again) and one consistent read of the items delivered.
 */
export async function pull(
  userId: string,
  checkpointText: string | undefined,
  limit: number,
): Promise<{ documents: Doc[]; checkpoint: string }> {
  const checkpoint = decodeCheckpoint(checkpointText);
  const delivered = new Set(checkpoint.d);
  const { changes, complete } = await changesAfter(
    userId,
    checkpoint.b,
    limit + checkpoint.d.length,
  );
  const fresh = changes.filter((c) => !delivered.has(markOf(c)));
  const taken = withinCost(fresh.slice(0, limit));
  const last = taken.at(-1);
  // How far every change has been seen: the last taken when cut at `limit` or by cost, else
  // where a table was cut, else all of them.
  const cut = taken.length === limit || taken.length < Math.min(limit, fresh.length);
  const seen = cut && last ? last.version : complete;
  const hold = String(Date.now() - SETTLE_MS).padStart(13, "0");
  let base = seen !== undefined && seen < hold ? seen : hold;
  if (base < checkpoint.b) base = checkpoint.b;
  const documents = await docsOf(userId, taken);
  const marks = [
    ...checkpoint.d,
    ...taken.map(markOf),
    // A state read newer than its entry: delivered too, so it is not sent again.
    ...documents.map((d) => markOf(d)),
  ];
  const baseTime = base === "0" ? 0 : versionTime(base);
  const kept = [...new Set(marks)].filter(
    (m) => Number.parseInt(m.split(".")[0] ?? "0", 36) >= baseTime,
  );
  return { documents, checkpoint: encodeCheckpoint({ b: base, d: kept }) };
}

// ---- Push -------------------------------------------------------------------------------------

/** What one change came to: the item's resulting state and the fields both sides changed. */
export interface Applied {
  doc: Doc;
  conflicts: Conflict[];
}

/** When a tombstone says the item was deleted: its deleted Doc. */
async function tombstoneOf(userId: string, collection: Collection, id: string) {
  const found = await batchGet({
    [COUNTERS_TABLE]: { keys: [tombstoneKey(userId, collection, id)], consistent: true },
  });
  const item = found[COUNTERS_TABLE]?.[0];
  return item ? deletedDoc(collection, id, String(item.sync_version)) : undefined;
}

/**
 * The device's new state checked against its kind: a field only the API writes, changed, is 403;
 * a field the kind does not know is 400. Answers the writable fields sent.
 */
function writableSent(kind: Kind, data: Fields, assumed: Fields | undefined): Fields {
  for (const [field, value] of Object.entries(data)) {
    if ((kind.forbidden as readonly string[]).includes(field)) {
      if (!assumed || !same(value, assumed[field])) {
        throw new ForbiddenError(`${field} is not the device's to change`, "insufficient_scope");
      }
    } else if (!(field in kind.writable) && !(kind.readOnly as readonly string[]).includes(field)) {
      throw new BadRequestError(`data.${field} is not a field a device writes`);
    }
  }
  return Object.fromEntries(Object.entries(data).filter(([f]) => f in kind.writable));
}

const notFound = (collection: Collection) =>
  collection === "songs"
    ? new NotFoundError("No such song", "song_not_found")
    : new NotFoundError("No such playlist", "playlist_not_found");

function requireUlid(collection: Collection, id: string) {
  if (!ULID_PATTERN.test(id)) {
    throw new BadRequestError(
      `${collection} ids are ULIDs the device makes (got ${JSON.stringify(id)})`,
    );
  }
}

/** The ancestor of a merge: what the device last pulled, when it pulled this item at all. */
function ancestorOf(change: SyncChange): Fields | undefined {
  return change.assumed && !change.assumed.deleted ? (change.assumed.data ?? {}) : undefined;
}

async function pushSong(userId: string, change: SyncChange): Promise<Applied> {
  const { id } = change;
  requireUlid("songs", id);
  const kind = KINDS.songs;
  if (change.data === null) {
    await deleteSongEverywhere(userId, id);
    const tomb = await tombstoneOf(userId, "songs", id);
    if (!tomb) throw notFound("songs");
    return { doc: tomb, conflicts: [] };
  }
  const sent = writableSent(kind, change.data, ancestorOf(change));
  return retry(CONTENTION, async (_n, again) => {
    const current = await getVersionedSong(userId, id);
    if (!current) {
      const tomb = await tombstoneOf(userId, "songs", id);
      if (tomb) return { doc: tomb, conflicts: [] };
      if (change.assumed) throw notFound("songs");
      const fields = parse(SongBody, sent, "data");
      const refusal = await putSong(userId, newSong(fields, id), maxSongsPerUser);
      if (refusal === "quota") {
        throw new ConflictError(`A user holds at most ${maxSongsPerUser} songs`, "quota_exceeded");
      }
      if (refusal) throw new Refused(refusal);
      const created = await getVersionedSong(userId, id);
      if (!created) return again;
      return { doc: songDoc(created), conflicts: [] };
    }
    // A create sent again (its answer was lost): the song is there, nothing changes.
    if (!change.assumed) return { doc: songDoc(current), conflicts: [] };
    const server = writableOf(kind, current.song);
    const ancestor =
      change.assumed.version === current.version ? server : (ancestorOf(change) ?? server);
    const { merged, conflicts } = merge(kind, ancestor, server, sent);
    if (same(merged, server)) return { doc: songDoc(current), conflicts };
    const fields = parse(SongBody, merged, "data");
    const written = await updateSong(userId, id, current.version, fields);
    return written ? { doc: songDoc(written), conflicts } : again;
  });
}

async function pushPlaylist(userId: string, change: SyncChange): Promise<Applied> {
  const { id } = change;
  requireUlid("playlists", id);
  const kind = KINDS.playlists;
  if (change.data === null) {
    // Deletion wins over any concurrent edit: no version condition.
    await deletePlaylist(userId, id);
    const tomb = await tombstoneOf(userId, "playlists", id);
    if (!tomb) throw notFound("playlists");
    return { doc: tomb, conflicts: [] };
  }
  const sent = writableSent(kind, change.data, ancestorOf(change));
  return retry(CONTENTION, async (_n, again) => {
    const current = await getVersionedPlaylist(userId, id, true);
    if (!current) {
      const tomb = await tombstoneOf(userId, "playlists", id);
      if (tomb) return { doc: tomb, conflicts: [] };
      if (change.assumed) throw notFound("playlists");
      const fields = parse(PlaylistFields, { songIds: [], ...sent }, "data");
      const checked = await checkSongIds(userId, fields.songIds);
      const playlist = { ...newPlaylist(fields, false), playlistId: id };
      const refusal = await putPlaylist(userId, playlist, maxPlaylistsPerUser);
      if (refusal === "quota") {
        throw new ConflictError(
          `A user holds at most ${maxPlaylistsPerUser} playlists`,
          "quota_exceeded",
        );
      }
      if (refusal) throw new Refused(refusal);
      await settleSongIds(userId, checked, playlist);
      const created = await getVersionedPlaylist(userId, id, true);
      if (!created) return again;
      return { doc: playlistDoc(created), conflicts: [] };
    }
    if (!change.assumed) return { doc: playlistDoc(current), conflicts: [] };
    const server = writableOf(kind, current.playlist);
    const ancestor =
      change.assumed.version === current.version ? server : (ancestorOf(change) ?? server);
    const { merged, conflicts } = merge(kind, ancestor, server, sent);
    if (same(merged, server)) return { doc: playlistDoc(current), conflicts };
    const fields = parse(PlaylistFields, merged, "data");
    const known = new Set(current.playlist.songIds);
    const checked = await checkSongIds(
      userId,
      fields.songIds.filter((s) => !known.has(s)),
    );
    const outcome = await updatePlaylist(userId, id, fields, current.version);
    if (outcome === "precondition" || outcome === "not_found") return again;
    await settleSongIds(userId, checked, outcome.playlist);
    return { doc: playlistDoc(outcome), conflicts };
  });
}

/**
 * The profile's change goes through the routes' own writes: user_metadata as PATCH /users merges
 * it (by top-level key, so a key another device changed meanwhile stays), favGenre as PUT
 * /genres/fav sets it.
 */
async function pushProfile(userId: string, change: SyncChange): Promise<Applied> {
  if (change.id !== userId) {
    throw new ForbiddenError("A device syncs its own user's profile only", "insufficient_scope");
  }
  if (change.data === null) {
    throw new BadRequestError("A profile is not deleted through sync: DELETE /users/{userId}");
  }
  const kind = KINDS.profile;
  const sent = writableSent(kind, change.data, ancestorOf(change));
  const stored = await getProfile(userId);
  const current = stored && !stored.deleting ? profileDoc(stored) : undefined;
  const empty = { user_metadata: {}, favGenre: null };
  const server = writableOf(kind, current?.data ?? empty);
  // A device that never pulled the profile started from the empty one (every user has it).
  const ancestor =
    change.assumed && change.assumed.version === current?.version
      ? server
      : writableOf(kind, { ...empty, ...ancestorOf(change) });
  const { merged, conflicts } = merge(kind, ancestor, server, sent);
  const before = (server.user_metadata ?? {}) as Fields;
  const after = (merged.user_metadata ?? {}) as Fields;
  const patch: Fields = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (!same(own(before, key), own(after, key))) patch[key] = own(after, key) ?? null;
  }
  if (Object.keys(patch).length) await patchMetadata(userId, { user_metadata: patch });
  if (!same(merged.favGenre, server.favGenre)) {
    if (typeof merged.favGenre !== "string") {
      throw new BadRequestError("favGenre is set to a genre; it cannot be unset");
    }
    await chooseFavGenre(userId, parse(GenreBody, { genre: merged.favGenre }).genre);
  }
  const now = await getProfile(userId);
  const doc = now ? profileDoc(now) : (current ?? deletedDoc("profile", userId, "0"));
  return { doc, conflicts };
}

/** One change of a push, applied alone (a refusal is thrown, and concerns this change only). */
export function applyChange(userId: string, change: SyncChange): Promise<Applied> {
  switch (change.collection) {
    case "songs":
      return pushSong(userId, change);
    case "playlists":
      return pushPlaylist(userId, change);
    default:
      return pushProfile(userId, change);
  }
}

/** The item's current state, for the answer of a change that was refused. */
export async function currentDoc(userId: string, change: SyncChange): Promise<Doc | undefined> {
  if (change.collection === "profile") {
    const profile = change.id === userId ? await getProfile(userId) : undefined;
    return profile ? profileDoc(profile) : undefined;
  }
  if (!ULID_PATTERN.test(change.id)) return undefined;
  const live =
    change.collection === "songs"
      ? await getVersionedSong(userId, change.id).then((s) => s && songDoc(s))
      : await getVersionedPlaylist(userId, change.id, true).then((p) => p && playlistDoc(p));
  return live ?? (await tombstoneOf(userId, change.collection, change.id));
}
