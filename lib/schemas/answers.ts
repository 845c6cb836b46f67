/**
 * What the routes answer: the schemas their declarations name (`schema: "Song"`, lib/http/route.ts
 * AnswerName), which lib/http/openapi.ts resolves when the document is built. No function imports
 * this module (types only): esbuild cannot drop a zod schema nobody uses (its constructors may
 * have side effects), so every schema of a module a function imports is built when the function
 * loads. Handlers' answers are typed by them all the same, and lib/db and lib/domain take the
 * answers' types (Song, Playlist) from here. An item kind's answer is its declaration's fields
 * (lib/kinds/), each as its type reads.
 */
import * as z from "zod/mini";
import { ERROR_CODES, type ErrorCode } from "../errors.ts";
import type { FieldType, ItemKind } from "../kinds/kind.ts";
import { PLAYLIST } from "../kinds/playlist.ts";
import { SONG } from "../kinds/song.ts";
import { Metadata } from "./index.ts";
import { Doc, SyncCollection } from "./sync.ts";

export const PlaysResult = z.strictObject({ plays: z.int() });
export const Health = z.strictObject({ status: z.literal("ok") });
export const OpenApiDocument = z.looseObject({ openapi: z.string() });

/** A page of a list: its items and the cursor of the next page (null on the last). */
const pageOf = <K extends string, T extends z.ZodMiniType>(key: K, item: T) =>
  z.strictObject({ [key]: z.array(item), nextCursor: z.nullable(z.string()) } as {
    [P in K]: z.ZodMiniArray<T>;
  } & { nextCursor: z.ZodMiniNullable<z.ZodMiniString> });
export const DisplayNameResult = z.strictObject({ displayName: z.string() });
export const FavGenreResult = z.strictObject({ favGenre: z.nullable(z.string()) });
export const PostLoginResult = z.strictObject({
  user_metadata: z.record(z.string(), z.unknown()),
  app_metadata: z.record(z.string(), z.unknown()),
  claims: z.record(z.string(), z.unknown()),
  // The user_metadata keys moved in from Auth0 at this login and those left out (both empty
  // when nothing moved: the store had seen the user).
  migration: z.strictObject({ moved: z.array(z.string()), skipped: z.array(z.string()) }),
});

/** Each field type's schema, made anew for each field (one instance shared would be a $ref). */
const FIELD_TYPES = {
  string: () => z.string(),
  ids: () => z.array(z.string()),
  int: () => z.int(),
  boolean: () => z.boolean(),
  metadata: () => z.record(z.string(), z.unknown()),
} satisfies Record<FieldType, () => z.ZodMiniType>;

/** An item kind's answer: each declared field, in the declaration's order, as its type reads. */
const answerOf = <K extends ItemKind>(kind: K) =>
  z.strictObject(
    Object.fromEntries(
      Object.entries(kind.fields).map(([field, { type }]) => [field, FIELD_TYPES[type]()]),
    ) as {
      -readonly [F in keyof K["fields"]]: ReturnType<(typeof FIELD_TYPES)[K["fields"][F]["type"]]>;
    },
  );

export const Song = answerOf(SONG);
export type Song = z.output<typeof Song>;
export const Playlist = answerOf(PLAYLIST);
export type Playlist = z.output<typeof Playlist>;
/** Editorial: who created it (its editor, whose songs it lists) and who changed it last. */
export const FeaturedPlaylist = z.strictObject({
  ...Playlist.shape,
  createdBy: z.string(),
  updatedBy: z.string(),
});
export type FeaturedPlaylist = z.output<typeof FeaturedPlaylist>;
export const User = z.strictObject({
  user_id: z.string(),
  user_metadata: Metadata,
  app_metadata: Metadata,
  /** When the API first saw the user (any write, a play included); never null. */
  created_at: z.string(),
  /** The last change of what this object shows (metadata, genre); created_at until then. */
  updated_at: z.string(),
});
/** A page of GET /users/{userId}/export; user, favGenre and totalPlays on the first only. */
export const ExportPage = z.strictObject({
  format: z.literal("music-user-data-export/1"),
  exportedAt: z.string(),
  user: z.optional(User),
  favGenre: z.optional(z.nullable(z.string())),
  totalPlays: z.optional(z.int()),
  songs: z.array(Song),
  playlists: z.array(Playlist),
  nextCursor: z.nullable(z.string()),
});
/** `GET /users/{userId}`: the user object, or the part Auth0's `fields` parameter chose. */
export const UserFields = z.partial(User);
export const ErrorBody = z.strictObject({
  statusCode: z.int(),
  error: z.string(),
  message: z.string(),
  // The closed set of lib/errors.ts: a code answered anywhere is one the document lists.
  errorCode: z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]),
});

export const SongPage = pageOf("songs", Song);
export const PlaylistPage = pageOf("playlists", Playlist);
export const FeaturedPage = pageOf("playlists", FeaturedPlaylist);

/** GET /sync: what changed since the checkpoint, and the checkpoint to pull from next. */
export const SyncPull = z.strictObject({ documents: z.array(Doc), checkpoint: z.string() });
/** A field (or `user_metadata.<key>`) both sides changed: the pushed value kept, the other. */
export const SyncConflict = z.strictObject({
  collection: SyncCollection,
  id: z.string(),
  field: z.string(),
  kept: z.unknown(),
  replaced: z.unknown(),
});
/** POST /sync: the resulting state of every item named, the conflicts, the refused changes. */
export const SyncPush = z.strictObject({
  documents: z.array(Doc),
  conflicts: z.array(SyncConflict),
  errors: z.array(z.strictObject({ collection: SyncCollection, id: z.string(), error: ErrorBody })),
});
export type SyncPush = z.output<typeof SyncPush>;
