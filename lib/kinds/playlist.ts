/**
 * A user's playlist: one item of the playlists table under its owner, its id a ULID. Its plays
 * live in a counter item of their own (lib/db/counters/playlist-plays.ts) and `featured` tells
 * the editorial shelf's apart (lib/db/featured.ts): the table module adds both when it reads one.
 */
import type { ItemKind } from "./kind.ts";

export const PLAYLIST = {
  table: "playlists",
  partitionKey: "user_id",
  sortKey: "playlist_id",
  id: "playlistId",
  fields: {
    playlistId: { attribute: "playlist_id", type: "string" },
    name: { attribute: "name", type: "string", sync: "replace" },
    songIds: { attribute: "song_ids", type: "ids", sync: "list" },
    plays: { type: "int", sync: "refused" },
    featured: { type: "boolean", sync: "refused" },
    createdAt: { attribute: "created_at", type: "string" },
    updatedAt: { attribute: "updated_at", type: "string" },
  },
  version: "sync_version",
} as const satisfies ItemKind;
