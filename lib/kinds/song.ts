/** A song: one item of the songs table under its owner, its id a ULID (lists run in creation order). */
import type { ItemKind } from "./kind.ts";

export const SONG = {
  table: "songs",
  partitionKey: "user_id",
  sortKey: "song_id",
  id: "songId",
  fields: {
    songId: { attribute: "song_id", type: "string" },
    songName: { attribute: "song_name", type: "string", sync: "replace" },
    genre: { attribute: "genre", type: "string", sync: "replace" },
    createdAt: { attribute: "created_at", type: "string" },
  },
  version: "sync_version",
} as const satisfies ItemKind;
