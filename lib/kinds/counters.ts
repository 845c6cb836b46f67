/**
 * The counters table's key. Its items are small records beside the user's data, none of them an
 * answer's: each kind has its module in lib/db/counters/, and its key is `user_id` with the kind
 * (and for some an id) in `counter_id`.
 */
import type { TableKey } from "./kind.ts";

export const COUNTERS = {
  table: "counters",
  partitionKey: "user_id",
  sortKey: "counter_id",
} as const satisfies TableKey;
