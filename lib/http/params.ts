/**
 * The request parts routes declare (lib/http/route.ts): path parameters, list pages and the
 * headers a route reads, each with its refusal and its description for the document.
 */
import * as z from "zod/mini";
import { BadRequestError, NotFoundError } from "../errors.ts";
import { ULID_PATTERN } from "../ids.ts";
import { isWellFormed } from "../json.ts";
import { documentedAs, IDEMPOTENCY_KEY } from "../schemas/index.ts";
import { ifMatch } from "./etag.ts";
import { idempotencyKey } from "./idempotency.ts";
import type { HeaderParam, PathParam } from "./route.ts";

/** An id this API issued. Anything it could not have issued is simply not found. */
function issuedId(code: "song_not_found" | "playlist_not_found", what: string): PathParam {
  return {
    // Documented as any id: one this API did not issue is simply not found (404), not refused.
    schema: z
      .string()
      .check(z.regex(ULID_PATTERN))
      .register(documentedAs, { type: "string", minLength: 1 }),
    refusal: () => new NotFoundError(`${what} not found`, code),
    code,
    description: "An id this API issued (a ULID)",
  };
}

export const SongId = issuedId("song_not_found", "Song");
export const PlaylistId = issuedId("playlist_not_found", "Playlist");

/** `{userId}` as sent (`google-oauth2%7C123`), decoded exactly once from the raw path. */
export const UserId: PathParam = {
  schema: z.string().check(
    z.minLength(1),
    z.maxLength(256),
    z.refine((id) => isWellFormed(id)),
  ),
  refusal: () =>
    new BadRequestError("userId must be a URL-encoded Auth0 user id", "invalid_user_id"),
  code: "invalid_user_id",
  description: "An Auth0 user id such as google-oauth2|123, URL-encoded (google-oauth2%7C123)",
  raw: true,
};

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

export const IdempotencyKey: HeaderParam<string | undefined> = {
  name: "Idempotency-Key",
  read: idempotencyKey,
  codes: ["invalid_idempotency_key", "idempotency_key_in_use", "idempotency_key_reused"],
  description: "Makes a retry safe: the same key and body answer the first response again",
  schema: { type: "string", pattern: IDEMPOTENCY_KEY.source },
};

export const IfMatch: HeaderParam<ReturnType<typeof ifMatch>> = {
  name: "If-Match",
  read: ifMatch,
  codes: ["invalid_if_match", "precondition_failed"],
  description: 'Strong ETags such as "3", or *; a weak W/ tag never matches',
  schema: { type: "string" },
};
