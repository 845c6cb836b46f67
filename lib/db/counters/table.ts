/**
 * The counters table (lib/kinds/counters.ts): small items of their own, so that counting costs the
 * same whatever the size of a playlist or a profile (DynamoDB bills a write by the whole item's
 * size). One module per kind of item beside this one: user.ts, playlist-plays.ts, play-slots.ts,
 * tombstone.ts, featured.ts, deletion.ts; and sync's tombstones of deleted items
 * (lib/db/changes.ts).
 */
import { config } from "../../config.ts";
import { COUNTERS } from "../../kinds/counters.ts";

export const COUNTERS_TABLE = config().tables[COUNTERS.table];
