/** Sync's pull query and push body (CONTRACT: Sync); the answers live in answers.ts. */
import * as z from "zod/mini";
import { documentedAs } from "./index.ts";

const DEFAULT_PULL = 100;

export const SyncCollection = z.enum(["songs", "playlists", "profile"]);

/** An item as a pull answers it: `data` is the Song, the Playlist or the profile; null deleted. */
export const Doc = z.strictObject({
  collection: SyncCollection,
  id: z.string().check(z.minLength(1), z.maxLength(256)),
  version: z.string().check(z.maxLength(64)),
  deleted: z.boolean(),
  data: z.nullable(z.record(z.string(), z.unknown())),
});
export type Doc = z.output<typeof Doc>;

/** GET /sync: `checkpoint` (the last answer's, unchanged; none: from the beginning), `limit`. */
export const SyncQuery = z.object({
  checkpoint: z
    .optional(z.string().check(z.maxLength(16_384, "checkpoint is invalid")))
    .register(z.globalRegistry, { description: "The checkpoint of the last pull, unchanged" }),
  limit: z
    .pipe(
      z.optional(
        z.string().check(
          z.regex(/^\d{1,3}$/, "limit must be an integer from 1 to 500"),
          z.refine(
            (v) => Number(v) >= 1 && Number(v) <= 500,
            "limit must be an integer from 1 to 500",
          ),
        ),
      ),
      z.transform((v) => (v === undefined ? DEFAULT_PULL : Number(v))),
    )
    .register(documentedAs, {
      description: "Documents per pull",
      type: "integer",
      minimum: 1,
      maximum: 500,
      default: DEFAULT_PULL,
    }),
});

/** One change a device pushes: what it last pulled (`assumed`) and its new state (null: delete). */
export const SyncChange = z.strictObject({
  collection: SyncCollection,
  id: z.string().check(z.minLength(1), z.maxLength(256)),
  assumed: z.nullable(Doc),
  data: z.nullable(z.record(z.string(), z.unknown())),
});
export type SyncChange = z.output<typeof SyncChange>;

export const SyncPushBody = z.strictObject({
  changes: z
    .array(SyncChange)
    .check(
      z.minLength(1, "changes must hold 1 to 100 changes"),
      z.maxLength(100, "changes must hold 1 to 100 changes"),
    ),
});
