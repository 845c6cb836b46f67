import * as z from "zod/mini";
import { ERROR_CODES } from "./errors.ts";
import {
  DisplayNameBody,
  ErrorBody,
  ExportPage,
  FeaturedPlaylist,
  GenreBody,
  IDEMPOTENCY_KEY,
  Playlist,
  PlaylistBody,
  PlaylistPatchBody,
  PostLoginEvent,
  Song,
  SongBody,
  User,
  UserFields,
  UserPatchBody,
} from "./schemas/index.ts";

/**
 * The OpenAPI 3.1 document, generated from the schemas that validate requests. Every route of
 * serverless.yml appears here (tests/unit/lib/openapi.test.ts compares the two).
 */
type Schema = z.ZodMiniType;

interface Operation {
  id: string;
  tag: "profile" | "songs" | "playlists" | "featured" | "users" | "hooks" | "meta";
  summary: string;
  description: string;
  body?: Schema;
  ok: { status: number; schema?: Schema };
  list?: boolean;
  idempotent?: boolean;
  public?: boolean;
  ifMatch?: boolean;
  /** What a 409 means on this operation, when it can answer one. */
  conflict?: string;
  /** Pages by `cursor` alone (no `limit`): the export. */
  cursor?: boolean;
  /** What else than DynamoDB, the keys or time a 503 may stand for on this operation. */
  unavailable?: string;
  /** Plays: 429 play_too_soon within the cooldown. */
  cooldown?: boolean;
  /** Whose songs the body's songIds must name, when it has songIds (else 400 unknown_song). */
  songsOf?: string;
  /** Auth0's fields and include_fields query parameters. */
  userFields?: boolean;
}

const DisplayName = z.strictObject({ displayName: z.string() });
const FavGenre = z.strictObject({ favGenre: z.nullable(z.string()) });
const pageOf = (key: string, item: Schema) =>
  z.strictObject({ [key]: z.array(item), nextCursor: z.nullable(z.string()) });
const PostLoginResult = z.strictObject({
  user_metadata: z.record(z.string(), z.unknown()),
  app_metadata: z.record(z.string(), z.unknown()),
  claims: z.record(z.string(), z.unknown()),
});

export const OPERATIONS: Record<string, Operation> = {
  "GET /displayName": {
    id: "getDisplayName",
    tag: "profile",
    description: 'The caller\'s display name; "user" when they never chose one.',
    summary: 'The caller\'s display name ("user" when never set)',
    ok: { status: 200, schema: DisplayName },
  },
  "PUT /displayName": {
    id: "setDisplayName",
    tag: "profile",
    description:
      "Sets user_metadata.displayName: 1 to 64 characters after trimming, no control characters.",
    summary: "Set the caller's display name",
    body: DisplayNameBody,
    ok: { status: 200, schema: DisplayName },
  },
  "GET /genres/getFav": {
    id: "getFavouriteGenre",
    tag: "profile",
    description: "The caller's favourite genre, null when unset.",
    summary: "The caller's favourite genre",
    ok: { status: 200, schema: FavGenre },
  },
  "PUT /genres/fav": {
    id: "setFavouriteGenre",
    tag: "profile",
    description:
      "Sets the caller's favourite genre (1 to 64 characters). Moves the profile's ETag.",
    summary: "Set the caller's favourite genre",
    body: GenreBody,
    ok: { status: 200, schema: FavGenre },
  },
  "GET /songs": {
    id: "listSongs",
    tag: "songs",
    description:
      "The caller's songs in creation order, a page at a time; the last page has nextCursor null.",
    summary: "The caller's songs, a page at a time",
    list: true,
    ok: { status: 200, schema: pageOf("songs", Song) },
  },
  "POST /songs": {
    id: "createSong",
    tag: "songs",
    description:
      "Adds a song, within MAX_SONGS_PER_USER. With an Idempotency-Key, a retry answers the first response.",
    summary: "Add a song",
    body: SongBody,
    idempotent: true,
    conflict: "quota_exceeded (MAX_SONGS_PER_USER reached) or account_being_deleted",
    ok: { status: 201, schema: Song },
  },
  "GET /songs/{songId}": {
    id: "getSong",
    tag: "songs",
    description: "One of the caller's songs; another user's is not found.",
    summary: "One of the caller's songs",
    ok: { status: 200, schema: Song },
  },
  "DELETE /songs/{songId}": {
    id: "deleteSong",
    tag: "songs",
    description:
      "Deletes one of the caller's songs, frees its place in the quota and takes it out of every playlist of the caller that lists it. A retry finishes a deletion that was interrupted.",
    summary: "Delete one of the caller's songs (and take it out of their playlists)",
    ok: { status: 204 },
  },
  "GET /playlists": {
    id: "listPlaylists",
    tag: "playlists",
    description: "The caller's playlists with their plays, in creation order, a page at a time.",
    summary: "The caller's playlists",
    list: true,
    ok: { status: 200, schema: pageOf("playlists", Playlist) },
  },
  "POST /playlists": {
    id: "createPlaylist",
    tag: "playlists",
    description:
      "Creates a playlist, within MAX_PLAYLISTS_PER_USER; songIds are songs of the caller, each at most once. With an Idempotency-Key, a retry answers the first response.",
    summary: "Create a playlist",
    body: PlaylistBody,
    idempotent: true,
    conflict: "quota_exceeded (MAX_PLAYLISTS_PER_USER reached) or account_being_deleted",
    songsOf: "the caller's",
    ok: { status: 201, schema: Playlist },
  },
  "GET /playlists/{playlistId}": {
    id: "getPlaylist",
    tag: "playlists",
    description: "One of the caller's playlists with its plays.",
    summary: "One of the caller's playlists",
    ok: { status: 200, schema: Playlist },
  },
  "PATCH /playlists/{playlistId}": {
    id: "updatePlaylist",
    tag: "playlists",
    description:
      "Renames a playlist or replaces its songs (songs of the caller, each at most once); send name, songIds or both.",
    summary: "Rename a playlist or change its songs",
    body: PlaylistPatchBody,
    songsOf: "the caller's",
    ok: { status: 200, schema: Playlist },
  },
  "DELETE /playlists/{playlistId}": {
    id: "deletePlaylist",
    tag: "playlists",
    description: "Deletes a playlist; the caller's play total drops by its plays.",
    summary: "Delete a playlist (the play total drops by its plays)",
    ok: { status: 204 },
  },
  "POST /playlists/{playlistId}/plays": {
    id: "playPlaylist",
    tag: "playlists",
    description:
      "Counts one play: at most one per PLAY_COOLDOWN_SECONDS per user, once per Idempotency-Key.",
    summary: "Count one play (at most one per PLAY_COOLDOWN_SECONDS per user)",
    idempotent: true,
    cooldown: true,
    conflict:
      "idempotency_key_in_use (the first request with this key is still running; Retry-After) or account_being_deleted",
    ok: { status: 200, schema: Playlist },
  },
  "GET /playlists/featured": {
    id: "listFeaturedPlaylists",
    tag: "featured",
    description:
      "The featured playlists in creation order, a page at a time, for every signed-in user; a deleted one is never listed.",
    summary: "Featured playlists, for every signed-in user",
    list: true,
    ok: { status: 200, schema: pageOf("playlists", FeaturedPlaylist) },
  },
  "POST /playlists/featured": {
    id: "createFeaturedPlaylist",
    tag: "featured",
    description:
      "Creates a featured playlist: holders of the playlist_editor role only (stored roles less denied_roles), within MAX_FEATURED_PER_EDITOR per editor; songIds are songs of the editor, each at most once. createdBy and updatedBy are the editor.",
    summary: "Create a featured playlist (playlist_editor role)",
    body: PlaylistBody,
    idempotent: true,
    conflict:
      "quota_exceeded (the editor holds MAX_FEATURED_PER_EDITOR featured playlists) or account_being_deleted",
    songsOf: "the editor's (the caller's)",
    ok: { status: 201, schema: FeaturedPlaylist },
  },
  "PATCH /playlists/featured/{playlistId}": {
    id: "updateFeaturedPlaylist",
    tag: "featured",
    description:
      "Changes a featured playlist: the editor who created it (playlist_editor role), or any with update:featured (another editor's: 403 not_featured_creator); songIds are songs of its creator, each at most once. updatedBy becomes the caller.",
    summary: "Change a featured playlist (its editor, or update:featured)",
    body: PlaylistPatchBody,
    songsOf: "its creator's",
    conflict:
      "account_being_deleted (the editor's own account), or write_conflict under extreme contention (retry)",
    ok: { status: 200, schema: FeaturedPlaylist },
  },
  "DELETE /playlists/featured/{playlistId}": {
    id: "deleteFeaturedPlaylist",
    tag: "featured",
    description:
      "Deletes a featured playlist: the editor who created it, or any with update:featured. It leaves the list at once and its editor's quota, and an operator may restore it for 30 days.",
    summary: "Delete a featured playlist (its editor, or update:featured)",
    conflict:
      "account_being_deleted (the editor's own account), or write_conflict under extreme contention (retry)",
    ok: { status: 204 },
  },
  "POST /playlists/featured/{playlistId}/restore": {
    id: "restoreFeaturedPlaylist",
    tag: "featured",
    description:
      "Puts a featured playlist deleted in the last 30 days back in the list, at its place in creation order: update:featured only. It counts against its editor's MAX_FEATURED_PER_EDITOR again; songs its editor deleted since are left out. Never deleted, or deleted over 30 days ago: 404.",
    summary: "Restore a deleted featured playlist (update:featured)",
    conflict: "quota_exceeded (its editor holds MAX_FEATURED_PER_EDITOR featured playlists)",
    ok: { status: 200, schema: FeaturedPlaylist },
  },
  "GET /playlists/getPlays": {
    id: "getTotalPlays",
    tag: "playlists",
    description: "Total plays of the caller's playlists.",
    summary: "Total plays of the caller's playlists",
    ok: { status: 200, schema: z.strictObject({ plays: z.int() }) },
  },
  "GET /users/{userId}": {
    id: "getUser",
    tag: "users",
    description:
      "A profile: one's own (always, empty when nothing is stored), or any with read:users (404 for a user the API never saw). All five fields unless fields/include_fields choose, as on Auth0's Management API. created_at is when the API first saw the user (any write, a play included), updated_at the last change of what this object shows; neither is ever null. Answers a strong ETag: the profile's version, which moves whenever the whole object changes.",
    summary: "A profile (own, or any with read:users)",
    userFields: true,
    ok: { status: 200, schema: UserFields },
  },
  "PATCH /users/{userId}": {
    id: "updateUser",
    tag: "users",
    description:
      "Merges user_metadata (own, or update:users) and app_metadata (update:users_app_metadata) with Auth0's semantics; If-Match makes it conditional.",
    summary: "Merge metadata with Auth0's semantics",
    body: UserPatchBody,
    ifMatch: true,
    conflict: "account_being_deleted, or write_conflict under extreme contention (retry)",
    ok: { status: 200, schema: User },
  },
  "DELETE /users/{userId}": {
    id: "deleteUser",
    tag: "users",
    description:
      "Erases the profile, songs and playlists (own, or delete:users), then deletes the Auth0 user through the Management API (when AUTH0_MGMT_CLIENT_ID is configured). If-Match is checked before anything is removed. Until the deletion is done the post-login hook refuses the user (409 account_being_deleted); a deletion interrupted anywhere (a 503) is finished by the next DELETE of the same user, whatever its If-Match.",
    summary: "Erase the user's data and the Auth0 user (a retry finishes an interrupted one)",
    ifMatch: true,
    unavailable: "or Auth0's Management API did not answer (the next DELETE finishes the deletion)",
    ok: { status: 204 },
  },
  "GET /users/{userId}/export": {
    id: "exportUser",
    tag: "users",
    description:
      "One page of everything the API keeps of a user (own, or any with read:users; another user's is 403, an unknown user 404 for operators): the first page holds the profile, favGenre, totalPlays and the first songs and playlists, each later one (nextCursor) only songs and playlists. A page holds at most 4 MB of JSON. The pages together hold every song and playlist created up to exportedAt exactly once, each as it is when its page is read; one deleted before the walk reaches it is absent, none created later is in it.",
    summary: "Export a user's data, page by page",
    cursor: true,
    ok: { status: 200, schema: ExportPage },
  },
  "POST /hooks/post-login": {
    id: "runPostLogin",
    tag: "hooks",
    description:
      "Runs the login rules for the Auth0 Action: default display name, the playlist_editor role from plays, the roles claim. Client-credentials tokens with run:post_login only.",
    summary: "Run the login rules (client-credentials token with run:post_login)",
    body: PostLoginEvent,
    conflict:
      "account_being_deleted: the user's account deletion is under way; the Action denies the login",
    ok: { status: 200, schema: PostLoginResult },
  },
  "GET /openapi.json": {
    id: "getOpenApiDocument",
    tag: "meta",
    description: "This document. No token needed.",
    summary: "This document",
    public: true,
    ok: { status: 200, schema: z.looseObject({ openapi: z.string() }) },
  },
  "GET /health": {
    id: "getHealth",
    tag: "meta",
    description:
      "Liveness, for load balancers and a client's \"starting\" state: 200 once the API's functions answer. No token needed; reads no data (it says nothing of DynamoDB).",
    summary: "Whether the API answers",
    public: true,
    ok: { status: 200, schema: z.strictObject({ status: z.literal("ok") }) },
  },
};

function jsonSchema(schema: Schema, io: "input" | "output"): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
  return rest;
}

const HEADERS = {
  "X-Correlation-Id": {
    description: "The request's correlation id (the client's X-Correlation-Id, or one made here)",
    schema: { type: "string" },
  },
  "Retry-After": { description: "Seconds to wait before retrying", schema: { type: "integer" } },
  "WWW-Authenticate": {
    description: "The Bearer challenge (RFC 6750), with the error when a token was sent",
    schema: { type: "string" },
  },
  ETag: { description: 'The profile\'s strong ETag, e.g. "3"', schema: { type: "string" } },
  "Idempotent-Replayed": {
    description: "true when this is the stored first response to this Idempotency-Key",
    schema: { type: "string", enum: ["true"] },
  },
} as const;
type HeaderName = keyof typeof HEADERS;
/** Response headers: X-Correlation-Id always; `required` ones always there, `optional` may be. */
const headers = (required: HeaderName[] = [], optional: HeaderName[] = []) => ({
  ...Object.fromEntries(
    ["X-Correlation-Id" as const, ...required].map((n) => [n, { ...HEADERS[n], required: true }]),
  ),
  ...Object.fromEntries(optional.map((n) => [n, HEADERS[n]])),
});

const errorResponse = (
  description: string,
  required: HeaderName[] = [],
  optional: HeaderName[] = [],
) => ({
  description,
  headers: headers(required, optional),
  content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
});

/** The JSON Schema of a request body, with what zod's refinements cannot say written in. */
function requestSchema(body: Schema): Record<string, unknown> {
  const schema = jsonSchema(body, "input");
  // PATCH bodies of playlists must change something: name, songIds or both.
  if (body === PlaylistPatchBody) return { ...schema, minProperties: 1 };
  return schema;
}

/** What a 415 means on an operation that reads a body, and on one that takes none. */
const MEDIA_TYPE_REFUSAL = {
  body: "The body was not sent as Content-Type: application/json (unsupported_media_type); nothing written",
  none: "A body was sent, and not as Content-Type: application/json (unsupported_media_type); this operation needs no body, and nothing was written",
};

function operation(routeKey: string, op: Operation) {
  const [method = "", path = ""] = routeKey.split(" ");
  // Any request carrying a body must send it as JSON; POST, PUT and PATCH are the ones that may.
  const mayCarryBody = !op.public && ["POST", "PUT", "PATCH"].includes(method);
  const parameters: unknown[] = [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name,
    in: "path",
    required: true,
    description:
      name === "userId"
        ? "An Auth0 user id such as google-oauth2|123, URL-encoded (google-oauth2%7C123)"
        : "An id this API issued (a ULID)",
    schema: { type: "string", minLength: 1 },
  }));
  if (op.list) {
    parameters.push(
      {
        name: "limit",
        in: "query",
        description: "Items per page",
        schema: { type: "integer", minimum: 1, maximum: 100, default: 50 },
      },
      {
        name: "cursor",
        in: "query",
        description: "The nextCursor of the previous page, unchanged",
        schema: { type: "string", maxLength: 2048 },
      },
    );
  }
  if (op.cursor) {
    parameters.push({
      name: "cursor",
      in: "query",
      description: "The nextCursor of the previous page, unchanged",
      schema: { type: "string", maxLength: 2048 },
    });
  }
  if (op.userFields) {
    parameters.push(
      {
        name: "fields",
        in: "query",
        description:
          "Comma-separated fields to include (or, with include_fields=false, to leave out), e.g. user_id,user_metadata; names the object lacks select nothing; empty: every field",
        schema: { type: "string", maxLength: 1024 },
      },
      {
        name: "include_fields",
        in: "query",
        description: "Whether fields lists the fields to include (true) or to leave out (false)",
        schema: { type: "string", enum: ["true", "false"], default: "true" },
      },
    );
  }
  if (op.idempotent) {
    parameters.push({
      name: "Idempotency-Key",
      in: "header",
      description: "Makes a retry safe: the same key and body answer the first response again",
      schema: { type: "string", pattern: IDEMPOTENCY_KEY.source },
    });
  }
  if (op.ifMatch) {
    parameters.push({
      name: "If-Match",
      in: "header",
      description: 'Strong ETags such as "3", or *; a weak W/ tag never matches',
      schema: { type: "string" },
    });
  }
  const badInput = [
    op.body ? "the body breaks a rule (invalid_body, invalid_key, invalid_metadata, ...)" : "",
    op.songsOf ? `an id in songIds that is not one of ${op.songsOf} songs (unknown_song)` : "",
    op.list ? "limit out of 1..100, or a cursor this API did not issue (invalid_cursor)" : "",
    op.cursor ? "a cursor this API did not issue (invalid_cursor)" : "",
    op.userFields
      ? "include_fields not true or false, or fields over 1024 characters (invalid_query)"
      : "",
    path.includes("{userId}") ? "a malformed user id (invalid_user_id)" : "",
    op.ifMatch ? "a malformed If-Match (invalid_if_match)" : "",
    op.idempotent ? "a malformed Idempotency-Key (invalid_idempotency_key)" : "",
  ].filter(Boolean);
  return {
    operationId: op.id,
    tags: [op.tag],
    summary: op.summary,
    description: op.description,
    ...(op.public ? { security: [] } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(op.body
      ? {
          requestBody: {
            required: true,
            content: { "application/json": { schema: requestSchema(op.body) } },
          },
        }
      : {}),
    responses: {
      [op.ok.status]: {
        description: "Success",
        headers: headers(
          op.ok.schema === User || op.userFields ? ["ETag"] : [],
          op.idempotent ? ["Idempotent-Replayed"] : [],
        ),
        ...(op.ok.schema
          ? { content: { "application/json": { schema: jsonSchema(op.ok.schema, "output") } } }
          : {}),
      },
      ...(badInput.length
        ? { 400: errorResponse(`Bad input, nothing written: ${badInput.join("; ")}`) }
        : {}),
      ...(op.public
        ? {}
        : {
            401: errorResponse("Missing or invalid access token (missing_token, invalid_token)", [
              "WWW-Authenticate",
            ]),
            403: errorResponse(
              "Not allowed (insufficient_scope, missing_role, not_featured_creator, user_token_required)",
            ),
          }),
      ...(path.includes("{") || op.public
        ? {
            404: errorResponse(
              op.public
                ? "A route nothing serves (no_route)"
                : "Not found (song_not_found, playlist_not_found, inexistent_user); another user's item is not found either",
            ),
          }
        : {}),
      ...(op.conflict ? { 409: errorResponse(op.conflict, [], ["Retry-After"]) } : {}),
      ...(op.ifMatch
        ? {
            412: errorResponse("If-Match no longer matches (precondition_failed); nothing changed"),
          }
        : {}),
      ...(op.body ? { 413: errorResponse("Body over 64 kB (payload_too_large)") } : {}),
      ...(mayCarryBody
        ? { 415: errorResponse(op.body ? MEDIA_TYPE_REFUSAL.body : MEDIA_TYPE_REFUSAL.none) }
        : {}),
      ...(op.idempotent
        ? {
            422: errorResponse(
              "idempotency_key_reused: this key came with another body; nothing written",
            ),
          }
        : {}),
      ...(op.public
        ? {}
        : {
            429: errorResponse(
              op.cooldown
                ? "Too many requests, nothing done: rate_limited (over the caller's USER_READS_PER_SECOND or USER_WRITES_PER_SECOND, bursts of twice that), or play_too_soon (within the cooldown; nothing counted); retry after Retry-After"
                : "rate_limited: over the caller's USER_READS_PER_SECOND or USER_WRITES_PER_SECOND (bursts of twice that); nothing read or written; retry after Retry-After",
              ["Retry-After"],
            ),
          }),
      503: errorResponse(
        `Temporarily unavailable (temporarily_unavailable): DynamoDB, the issuer's keys or time ran out${op.unavailable ? `, ${op.unavailable}` : ""}; retry after Retry-After`,
        ["Retry-After"],
      ),
    },
  };
}

export function openApiDocument(serverUrl?: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [routeKey, op] of Object.entries(OPERATIONS)) {
    const [method = "", path = ""] = routeKey.split(" ");
    paths[path] = { ...paths[path], [method.toLowerCase()]: operation(routeKey, op) };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Music user-data API",
      version: "1.0.0",
      description: "User data of the music app: Auth0-style metadata, songs, playlists, plays.",
      license: { name: "Proprietary", identifier: "LicenseRef-Proprietary" },
      contact: { name: "The music user-data API team" },
    },
    servers: serverUrl
      ? [{ url: serverUrl }]
      : [
          { url: "http://127.0.0.1:3000", description: "npm start" },
          {
            url: "https://{apiId}.execute-api.{region}.amazonaws.com",
            description: "Deployed (serverless deploy prints the address)",
            variables: {
              apiId: { default: "a1b2c3d4e5", description: "The HTTP API's id" },
              region: { default: "us-east-1", description: "The AWS region" },
            },
          },
        ],
    tags: [
      { name: "profile", description: "The caller's display name and favourite genre" },
      { name: "songs", description: "The caller's songs" },
      { name: "playlists", description: "The caller's playlists and plays" },
      { name: "featured", description: "Featured playlists: read by all, edited by editors" },
      { name: "users", description: "Profiles with Auth0's metadata semantics" },
      { name: "hooks", description: "The post-login hook the Auth0 Action calls" },
      { name: "meta", description: "This document" },
    ],
    security: [{ bearerAuth: [] }],
    components: {
      securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
      schemas: {
        Error: {
          ...jsonSchema(ErrorBody, "output"),
          description: `Every error the API answers. errorCode is one of:\n\n${Object.entries(
            ERROR_CODES,
          )
            .map(([code, { status, meaning }]) => `- \`${code}\` (${status}): ${meaning}`)
            .join("\n")}`,
        },
      },
    },
    paths,
  };
}
