/**
 * The path parameters and headers routes declare (lib/http/route.ts), each with its refusal and
 * its description for the document. Query and body schemas live in lib/schemas.
 */
import * as z from "zod/mini";
import { BadRequestError, NotFoundError } from "../errors.ts";
import { ULID_PATTERN } from "../ids.ts";
import { isWellFormed } from "../json.ts";
import { documentedAs, IDEMPOTENCY_KEY } from "../schemas/index.ts";
import { ifMatch, ifMatchVersions } from "./etag.ts";
import { idempotencyKey } from "./idempotency.ts";
import type { HeaderParam, PathParam } from "./route.ts";

/** An id this API issued. Anything it could not have issued is simply not found. */
function issuedId(
  code: "song_not_found" | "playlist_not_found",
  what: string,
  example: string,
): PathParam {
  return {
    // Documented as any id: one this API did not issue is simply not found (404), not refused.
    schema: z
      .string()
      .check(z.regex(ULID_PATTERN))
      .register(documentedAs, { type: "string", minLength: 1 }),
    refusal: () => new NotFoundError(`${what} not found`, code),
    code,
    description: "An id this API issued (a ULID)",
    example,
  };
}

export const SongId = issuedId("song_not_found", "Song", "01JD0000000000000000000SNG");
export const PlaylistId = issuedId("playlist_not_found", "Playlist", "01JD0000000000000000000PYS");

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
  example: "google-oauth2|xxxyyy123",
  raw: true,
};

/** If-Match of a playlist: its ETag is its version as sync reports it. */
export const VersionIfMatch: HeaderParam<ReturnType<typeof ifMatchVersions>> = {
  name: "If-Match",
  read: ifMatchVersions,
  codes: ["invalid_if_match", "precondition_failed"],
  description: "The playlist's ETag as GET answers it, or *; a weak W/ tag never matches",
  schema: { type: "string" },
};

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
