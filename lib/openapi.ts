import * as z from "zod/mini";
import {
  DisplayNameBody,
  ErrorBody,
  GenreBody,
  Playlist,
  PlaylistBody,
  PlaylistPatchBody,
  PostLoginEvent,
  Song,
  SongBody,
  User,
  UserPatchBody,
} from "./schemas/index.ts";

/**
 * The OpenAPI 3.1 document, generated from the schemas that validate requests. Every route of
 * serverless.yml appears here (tests/unit/lib/openapi.test.ts compares the two).
 */
type Schema = z.ZodMiniType;

interface Operation {
  summary: string;
  body?: Schema;
  ok: { status: number; schema?: Schema };
  list?: boolean;
  idempotent?: boolean;
  public?: boolean;
  ifMatch?: boolean;
  /** What a 409 means on this operation, when it can answer one. */
  conflict?: string;
  /** Plays: 429 play_too_soon within the cooldown. */
  cooldown?: boolean;
}

const DisplayName = z.object({ displayName: z.string() });
const FavGenre = z.object({ favGenre: z.nullable(z.string()) });
const pageOf = (key: string, item: Schema) =>
  z.object({ [key]: z.array(item), nextCursor: z.nullable(z.string()) });
const PostLoginResult = z.object({
  user_metadata: z.record(z.string(), z.unknown()),
  app_metadata: z.record(z.string(), z.unknown()),
  claims: z.record(z.string(), z.unknown()),
});

export const OPERATIONS: Record<string, Operation> = {
  "GET /displayName": {
    summary: 'The caller\'s display name ("user" when never set)',
    ok: { status: 200, schema: DisplayName },
  },
  "PUT /displayName": {
    summary: "Set the caller's display name",
    body: DisplayNameBody,
    ok: { status: 200, schema: DisplayName },
  },
  "GET /genres/getFav": {
    summary: "The caller's favourite genre",
    ok: { status: 200, schema: FavGenre },
  },
  "PUT /genres/fav": {
    summary: "Set the caller's favourite genre",
    body: GenreBody,
    ok: { status: 200, schema: FavGenre },
  },
  "GET /songs": {
    summary: "The caller's songs, a page at a time",
    list: true,
    ok: { status: 200, schema: pageOf("songs", Song) },
  },
  "POST /songs": {
    summary: "Add a song",
    body: SongBody,
    idempotent: true,
    conflict: "quota_exceeded (MAX_SONGS_PER_USER reached) or account_being_deleted",
    ok: { status: 201, schema: Song },
  },
  "GET /songs/{songId}": {
    summary: "One of the caller's songs",
    ok: { status: 200, schema: Song },
  },
  "DELETE /songs/{songId}": { summary: "Delete one of the caller's songs", ok: { status: 204 } },
  "GET /playlists": {
    summary: "The caller's playlists",
    list: true,
    ok: { status: 200, schema: pageOf("playlists", Playlist) },
  },
  "POST /playlists": {
    summary: "Create a playlist",
    body: PlaylistBody,
    idempotent: true,
    conflict: "quota_exceeded (MAX_PLAYLISTS_PER_USER reached) or account_being_deleted",
    ok: { status: 201, schema: Playlist },
  },
  "GET /playlists/{playlistId}": {
    summary: "One of the caller's playlists",
    ok: { status: 200, schema: Playlist },
  },
  "PATCH /playlists/{playlistId}": {
    summary: "Rename a playlist or change its songs",
    body: PlaylistPatchBody,
    ok: { status: 200, schema: Playlist },
  },
  "DELETE /playlists/{playlistId}": {
    summary: "Delete a playlist (the play total drops by its plays)",
    ok: { status: 204 },
  },
  "POST /playlists/{playlistId}/plays": {
    summary: "Count one play (at most one per PLAY_COOLDOWN_SECONDS per user)",
    idempotent: true,
    cooldown: true,
    conflict:
      "idempotency_key_in_use (the first request with this key is still running; Retry-After) or account_being_deleted",
    ok: { status: 200, schema: Playlist },
  },
  "GET /playlists/featured": {
    summary: "Featured playlists, for every signed-in user",
    list: true,
    ok: { status: 200, schema: pageOf("playlists", Playlist) },
  },
  "POST /playlists/featured": {
    summary: "Create a featured playlist (playlist_editor role)",
    body: PlaylistBody,
    idempotent: true,
    ok: { status: 201, schema: Playlist },
  },
  "PATCH /playlists/featured/{playlistId}": {
    summary: "Change a featured playlist (playlist_editor role)",
    body: PlaylistPatchBody,
    ok: { status: 200, schema: Playlist },
  },
  "DELETE /playlists/featured/{playlistId}": {
    summary: "Delete a featured playlist (playlist_editor role)",
    ok: { status: 204 },
  },
  "GET /playlists/getPlays": {
    summary: "Total plays of the caller's playlists",
    ok: { status: 200, schema: z.object({ plays: z.int() }) },
  },
  "GET /users/{userId}": {
    summary: "A profile (own, or any with read:users)",
    ok: { status: 200, schema: User },
  },
  "PATCH /users/{userId}": {
    summary: "Merge metadata with Auth0's semantics",
    body: UserPatchBody,
    ifMatch: true,
    conflict: "account_being_deleted, or write_conflict under extreme contention (retry)",
    ok: { status: 200, schema: User },
  },
  "DELETE /users/{userId}": {
    summary: "Erase the profile, songs and playlists (a retry finishes an interrupted one)",
    ifMatch: true,
    ok: { status: 204 },
  },
  "POST /hooks/post-login": {
    summary: "Run the login rules (client-credentials token with run:post_login)",
    body: PostLoginEvent,
    ok: { status: 200, schema: PostLoginResult },
  },
  "GET /openapi.json": { summary: "This document", public: true, ok: { status: 200 } },
};

function jsonSchema(schema: Schema, io: "input" | "output"): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
  return rest;
}

const errorResponse = (description: string) => ({
  description,
  content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
});

function operation(routeKey: string, op: Operation) {
  const [, path = ""] = routeKey.split(" ");
  const parameters: unknown[] = [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name,
    in: "path",
    required: true,
    schema: { type: "string" },
  }));
  if (op.list) {
    parameters.push(
      {
        name: "limit",
        in: "query",
        schema: { type: "integer", minimum: 1, maximum: 100, default: 50 },
      },
      {
        name: "cursor",
        in: "query",
        description: "nextCursor of the previous page",
        schema: { type: "string" },
      },
    );
  }
  if (op.idempotent) {
    parameters.push({
      name: "Idempotency-Key",
      in: "header",
      schema: { type: "string", minLength: 1, maxLength: 255 },
    });
  }
  if (op.ifMatch) parameters.push({ name: "If-Match", in: "header", schema: { type: "string" } });
  return {
    summary: op.summary,
    ...(op.public ? { security: [] } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(op.body
      ? {
          requestBody: {
            required: true,
            content: { "application/json": { schema: jsonSchema(op.body, "input") } },
          },
        }
      : {}),
    responses: {
      [op.ok.status]: {
        description: "Success",
        ...(op.idempotent
          ? {
              headers: {
                "Idempotent-Replayed": {
                  description: "true when this is the stored first response to this key",
                  schema: { type: "string", enum: ["true"] },
                },
              },
            }
          : {}),
        ...(op.ok.schema
          ? { content: { "application/json": { schema: jsonSchema(op.ok.schema, "output") } } }
          : {}),
      },
      ...(op.body
        ? {
            400: errorResponse("Invalid input; nothing was written"),
            413: errorResponse("Body over 64 kB"),
          }
        : {}),
      ...(op.public
        ? {}
        : {
            401: errorResponse("Missing or invalid access token"),
            403: errorResponse("Not allowed"),
          }),
      ...(path.includes("{")
        ? { 404: errorResponse("Not found; another user's song or playlist is not found either") }
        : {}),
      ...(op.ifMatch ? { 412: errorResponse("If-Match no longer matches; nothing changed") } : {}),
      ...(op.conflict ? { 409: errorResponse(op.conflict) } : {}),
      ...(op.idempotent
        ? {
            422: errorResponse(
              "idempotency_key_reused: this key came with another body; nothing written",
            ),
          }
        : {}),
      ...(op.cooldown
        ? {
            429: {
              ...errorResponse("play_too_soon: within the cooldown; nothing counted"),
              headers: {
                "Retry-After": { description: "seconds to wait", schema: { type: "integer" } },
              },
            },
          }
        : {}),
      503: errorResponse("Temporarily unavailable; retry after Retry-After seconds"),
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
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    security: [{ bearerAuth: [] }],
    components: {
      securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
      schemas: { Error: jsonSchema(ErrorBody, "output") },
    },
    paths,
  };
}
