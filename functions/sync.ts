/**
 * Sync for devices that go offline (CONTRACT: Sync; docs/sync.md): a pull of what changed since
 * a checkpoint, and a push of a device's queued changes, each merged and applied alone.
 */
import { applyChange, currentDoc, pull } from "../lib/domain/sync.ts";
import { toHttpError } from "../lib/http/error-mapping.ts";
import { httpHandler } from "../lib/http/handler.ts";
import { errorBody } from "../lib/http/responses.ts";
import { defineRoute } from "../lib/http/route.ts";
import type { SyncPush } from "../lib/schemas/answers.ts";
import { SyncPushBody, SyncQuery } from "../lib/schemas/sync.ts";

const tag = "sync";

export const routes = [
  defineRoute({
    key: "GET /sync",
    id: "pullChanges",
    tag,
    summary: "Pull what changed since a checkpoint",
    description:
      "The caller's songs, playlists and profile changed since `checkpoint` (none: from the beginning), each in its latest state, deletions as `deleted: true` (kept 30 days; an older checkpoint is 410 checkpoint_expired), and the checkpoint to pull from next. Pull until `documents` is empty. Costs in proportion to what changed, not to what the user holds.",
    caller: "person",
    query: SyncQuery,
    responses: { 200: { schema: "SyncPull" } },
    errors: ["invalid_checkpoint", "checkpoint_expired"],
    example: { query: { limit: "100" } },
    handler: async ({ query, caller, respond }) =>
      respond(200, await pull(caller.sub, query.checkpoint, query.limit)),
  }),

  defineRoute({
    key: "POST /sync",
    id: "pushChanges",
    tag,
    summary: "Push a device's changes",
    description:
      "Applies each change in order, alone: `assumed` is the item as the device last pulled it (null for one it created, with a ULID it chose), `data` its new writable fields (null: delete). An older `assumed` is merged field by field (songIds as lists, user_metadata by key; both sides changed: the pushed value, the replaced one in `conflicts`); a deletion wins over a concurrent edit. The same push twice changes nothing the second time. A refused change is in `errors` with the API's error body (app_metadata, plays, featured: 403), and the others apply. `documents` holds the resulting state of every item named.",
    caller: "person",
    body: SyncPushBody,
    responses: { 200: { schema: "SyncPush" } },
    errors: [
      "unknown_song",
      "quota_exceeded",
      "song_not_found",
      "playlist_not_found",
      "invalid_metadata",
      "metadata_too_large",
      "account_being_deleted",
      "write_conflict",
    ],
    notes: { write_conflict: "in `errors`, for a change that met extreme contention (retry it)" },
    example: {
      body: {
        changes: [
          {
            collection: "songs",
            id: "01JD0000000000000000000SNG",
            assumed: null,
            data: { songName: "Blue in Green", genre: "jazz" },
          },
        ],
      },
    },
    handler: async ({ body, caller, respond }) => {
      const answer: SyncPush = { documents: [], conflicts: [], errors: [] };
      // In order, one at a time: a change may name a song created by one before it.
      for (const change of body.changes) {
        const { collection, id } = change;
        try {
          const { doc, conflicts } = await applyChange(caller.sub, change);
          answer.documents.push(doc);
          answer.conflicts.push(...conflicts.map((c) => ({ collection, id, ...c })));
        } catch (error) {
          const refusal = toHttpError(error);
          // Anything else is a fault of the API: the whole push answers 500, as any route would.
          if (!refusal || refusal.statusCode >= 500) throw error;
          answer.errors.push({ collection, id, error: errorBody(refusal) });
          const doc = await currentDoc(caller.sub, change);
          if (doc) answer.documents.push(doc);
        }
      }
      return respond(200, answer);
    },
  }),
];

export const handler = httpHandler(routes);
