/**
 * A user's plays: the running total kept in their counter item, one read whatever the playlists.
 */
import { COUNTERS_TABLE, getUserCounters, userCounterKey } from "../db/counters.ts";
import type { WarmUpTarget } from "../warm-up.ts";

/** The counters table, for a function's init warm-up. */
export const COUNTERS_WARM_UP: WarmUpTarget = { table: COUNTERS_TABLE, keyOf: userCounterKey };

export async function totalPlaysOf(userId: string): Promise<number> {
  return (await getUserCounters(userId, true)).totalPlays;
}
