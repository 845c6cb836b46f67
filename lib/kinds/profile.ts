/**
 * A user's profile as sync delivers it: the one item of the profiles table keyed by its user.
 * Its item holds more than sync shows (each metadata object's entry sizes, the ETag's `version`,
 * `deleting`): lib/db/profiles.ts reads those itself.
 */
import type { ItemKind } from "./kind.ts";

export const PROFILE = {
  table: "profiles",
  partitionKey: "user_id",
  fields: {
    user_metadata: { attribute: "user_metadata", type: "metadata", sync: "map" },
    app_metadata: { attribute: "app_metadata", type: "metadata", sync: "refused" },
    favGenre: { attribute: "fav_genre", type: "string", sync: "replace" },
  },
  version: "sync_version",
} as const satisfies ItemKind;
