import { en } from "zod/locales";
import * as z from "zod/mini";
import { validate } from "../validate.ts";

/**
 * The contract's input limits, defined once: the request bodies, queries and fields route
 * declarations (lib/http/route.ts) validate with, which lib/openapi.ts documents (npm run check
 * fails on a stale document). The answers live in lib/schemas/answers.ts.
 */

// English messages for zod's own checks (zod/mini ships without a locale).
z.config(en());

const NO_CONTROL_CHARACTERS = /^[^\p{Cc}]*$/u;

/**
 * How a schema is documented when its JSON Schema would say less than the API does: a query
 * parameter read as a string but meaning an integer, an id whose pattern only decides 404.
 * lib/openapi.ts documents a schema registered here as this JSON Schema instead.
 */
export const documentedAs = z.registry<Record<string, unknown>>();

/** An Idempotency-Key: 1 to 255 visible ASCII characters (checked here, documented as is). */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

function text(field: string, max: number) {
  return z
    .string(`${field} must be a string`)
    .check(
      z.trim(),
      z.minLength(1, `${field} must not be empty`),
      z.maxLength(max, `${field} must be at most ${max} characters`),
      z.regex(NO_CONTROL_CHARACTERS, `${field} must not contain control characters`),
    );
}

export const DisplayName = text("displayName", 64);
const Genre = text("genre", 64);
const SongName = text("songName", 200);
const PlaylistName = text("name", 100);
/**
 * A playlist's songs, in order, each at most once: ids of the owner's songs (checked against
 * the table by lib/domain/songs.ts, 400 unknown_song), never one twice.
 */
const SongIds = z
  .array(
    z.string("songIds must hold strings").check(z.minLength(1), z.maxLength(64)),
    "songIds must be an array of strings",
  )
  .check(
    z.maxLength(500, "songIds must hold at most 500 ids"),
    z.superRefine((ids, ctx) => {
      const seen = new Set<string>();
      for (const id of ids) {
        if (!seen.has(id)) {
          seen.add(id);
          continue;
        }
        ctx.addIssue({
          code: "custom",
          message: `songIds lists ${JSON.stringify(id)} more than once: a playlist holds each song once`,
        });
        return;
      }
    }),
  )
  .register(z.globalRegistry, { uniqueItems: true });

export const DisplayNameBody = z.strictObject({ displayName: DisplayName });
export const GenreBody = z.strictObject({ genre: Genre });
export const SongBody = z.strictObject({ songName: SongName, genre: Genre });
export const PlaylistBody = z.strictObject({ name: PlaylistName, songIds: z.optional(SongIds) });
export const PlaylistPatchBody = z
  .strictObject({ name: z.optional(PlaylistName), songIds: z.optional(SongIds) })
  .check(
    z.refine(
      (body) => body.name !== undefined || body.songIds !== undefined,
      "Send name, songIds or both",
    ),
  )
  // What the refinement says, for the document: a PATCH changes something.
  .register(z.globalRegistry, { minProperties: 1 });

const DEFAULT_PAGE_SIZE = 50;

const Cursor = z
  .optional(z.string().check(z.maxLength(2048, "cursor is invalid")))
  .register(z.globalRegistry, { description: "The nextCursor of the previous page, unchanged" });

/** A list's page: `limit` (1 to 100, 50 by default) and `cursor`; unknown ones are ignored. */
export const ListQuery = z.object({
  limit: z
    .pipe(
      z.optional(
        z.string().check(
          z.regex(/^\d{1,3}$/, "limit must be an integer from 1 to 100"),
          z.refine(
            (v) => Number(v) >= 1 && Number(v) <= 100,
            "limit must be an integer from 1 to 100",
          ),
        ),
      ),
      z.transform((v) => (v === undefined ? DEFAULT_PAGE_SIZE : Number(v))),
    )
    .register(documentedAs, {
      description: "Items per page",
      type: "integer",
      minimum: 1,
      maximum: 100,
      default: DEFAULT_PAGE_SIZE,
    }),
  cursor: Cursor,
});

/** GET /users/{userId}/export: the cursor only; unknown parameters are ignored as on lists. */
export const ExportQuery = z.object({ cursor: Cursor });

/** Auth0's `fields` and `include_fields`, checked by lib/domain/user.ts (400 invalid_query). */
export const UserFieldsQuery = z.object({
  fields: z.optional(z.string()).register(z.globalRegistry, {
    description:
      "Comma-separated fields to include (or, with include_fields=false, to leave out), e.g. user_id,user_metadata; names the object lacks select nothing; empty: every field",
    maxLength: 1024,
  }),
  include_fields: z.optional(z.string()).register(z.globalRegistry, {
    description: "Whether fields lists the fields to include (true) or to leave out (false)",
    enum: ["true", "false"],
    default: "true",
  }),
});

/** A metadata object: any JSON object; its keys and size are checked by lib/domain/metadata.ts. */
export const Metadata = z.record(z.string(), z.unknown());
export type Metadata = z.output<typeof Metadata>;
export const UserPatchBody = z.strictObject({
  user_metadata: z.optional(Metadata),
  app_metadata: z.optional(Metadata),
});

export const PostLoginEvent = z.looseObject({
  user: z.looseObject({
    user_id: z
      .string("event.user.user_id must be a string")
      .check(
        z.minLength(1, "event.user.user_id must not be empty"),
        z.maxLength(256, "event.user.user_id must be at most 256 characters"),
      ),
    email: z.optional(z.nullable(z.string())),
    name: z.optional(z.nullable(z.string())),
  }),
});

export type PlaylistInput = z.output<typeof PlaylistBody>;
export type PlaylistChanges = z.output<typeof PlaylistPatchBody>;

/** Validates input against a schema; the 400's message names every problem found. */
export function parse<T extends z.ZodMiniType>(
  schema: T,
  input: unknown,
  what = "Request body",
): z.output<T> {
  return validate<z.output<T>>(schema as never, input, what);
}
