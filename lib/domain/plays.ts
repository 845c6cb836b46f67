/**
 * A user's plays: the running total kept in their counter item, one read whatever the playlists;
 * and when a play sent with its play time (made offline) counts.
 */

import { MAX_PLAY_AGE_MS } from "../db/counters/play-slots.ts";
import { COUNTERS_TABLE } from "../db/counters/table.ts";
import { getUserCounters, userCounterKey } from "../db/counters/user.ts";
import { playlistCreatedAt } from "../db/playlists.ts";
import { BadRequestError } from "../errors.ts";
import type { WarmUpTarget } from "../lambda/warm-up.ts";

/** How far ahead of the server's clock a device's may be (CONTRACT: Plays). */
const CLOCK_SKEW_MS = 60_000;

/** The counters table, for a function's init warm-up. */
export const COUNTERS_WARM_UP: WarmUpTarget = { table: COUNTERS_TABLE, keyOf: userCounterKey };

export async function totalPlaysOf(userId: string): Promise<number> {
  return (await getUserCounters(userId, true)).totalPlays;
}

/**
 * The time a play counts at (epoch ms), or undefined when the user has no such playlist. Without
 * `playedAt`, now. A `playedAt` in the future beyond the clock skew, more than 7 days ago, or
 * before the playlist was created is 400 invalid_played_at. One within the skew counts as now:
 * no play counts at a time the server has not reached, so that plays sent late (spaced by the
 * cooldown like all counted plays) never add up faster than playing online could.
 */
export async function playTime(
  userId: string,
  playlistId: string,
  playedAt: string | undefined,
  now = Date.now(),
): Promise<number | undefined> {
  if (playedAt === undefined) return now;
  const at = Date.parse(playedAt);
  const refuse = (why: string) => {
    throw new BadRequestError(`playedAt ${playedAt} is ${why}`, "invalid_played_at");
  };
  if (at > now + CLOCK_SKEW_MS) refuse("in the future (beyond a minute of clock skew)");
  if (at < now - MAX_PLAY_AGE_MS) refuse("more than 7 days ago");
  const createdAt = await playlistCreatedAt(userId, playlistId);
  if (createdAt === undefined) return undefined;
  if (at < Date.parse(createdAt)) refuse(`before the playlist was created (${createdAt})`);
  return Math.min(at, now);
}
