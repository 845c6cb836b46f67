/**
 * The rate-limits table: one item per caller and kind (`bucket_id: "<kind>#<sub>"`), holding
 * the generic cell rate algorithm's one number, `tat`: the time (epoch ms) up to which the
 * caller's budget is spent. Taking `n` units at `now` is allowed when
 * `max(tat, now) + n·interval - now <= burst·interval`, and moves `tat` there. DynamoDB cannot
 * compute a max, so a take is one of two conditional updates, each a single write:
 * - idle (`tat <= now` or no item): `tat = now + n·interval`;
 * - busy (`now < tat <= now + (burst - n)·interval`): `tat = tat + n·interval`.
 * A refusal returns the stored `tat` (ALL_OLD), which says when the units will be there.
 *
 * A deleted account's cut-off rides the same items (CONTRACT: Tokens outlive nothing): `cut_at`
 * (epoch seconds) refuses every take by a token whose `iat` is at or before it, and `keep_until`
 * (the cut plus the longest a token may live) holds the item's TTL that long. Every request
 * already takes from these items (a write each time, reads a batch at a time), so checking the
 * cut costs no request and no read: one more condition on a write the limit makes anyway.
 */
import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { config } from "../config.ts";
import { db } from "./client.ts";
import { isConditionFailure } from "./errors.ts";

const RATE_LIMITS_TABLE = config().tables.rateLimits;

/** An idle bucket is kept this long after its budget is whole again, then TTL removes it. */
const IDLE_SECONDS = 3_600;

export interface Bucket {
  /** e.g. "writes#auth0|alice". */
  id: string;
  /** Milliseconds one unit costs (1000 / rate). */
  intervalMs: number;
  /** Units a full budget holds. */
  burst: number;
}

/**
 * Units taken, or the milliseconds until they could be, or the token was cut off (issued at or
 * before its account's deletion).
 */
export type Take =
  | { taken: true; tat: number }
  | { taken: false; retryAfterMs: number }
  | { taken: false; cutOff: true };

function expiresAt(tat: number): number {
  return Math.ceil(tat / 1000) + IDLE_SECONDS;
}

/** What a refused take found stored: its `tat`, and whether the token is cut off. */
function refusedTake(error: unknown, issuedAt: number): { tat?: number; cutOff: boolean } {
  if (!isConditionFailure(error)) throw error;
  const item = (error as { Item?: Record<string, { N?: string }> }).Item;
  const cut = item?.cut_at?.N === undefined ? undefined : Number(item.cut_at.N);
  return {
    ...(item?.tat?.N === undefined ? {} : { tat: Number(item.tat.N) }),
    cutOff: cut !== undefined && issuedAt <= cut,
  };
}

/** No cut-off, or one before the token was issued. */
const NOT_CUT = "(attribute_not_exists(cut_at) OR cut_at < :iat)";
/** A cut-off item's TTL stays at its keep_until whatever a take would set. */
const EXPIRES = "expires_at = if_not_exists(keep_until, :expires)";

/**
 * The last `tat` this container saw per bucket. `tat` only grows, so it is a lower bound of the
 * stored one: when it is past `now` the bucket is busy, and the first write is the busy one (one
 * round trip for a caller writing faster than its interval, not two).
 */
const seenTat = new Map<string, number>();
/** A container serving many callers forgets rather than grow without bound. */
const MAX_SEEN = 10_000;

function remember(id: string, tat: number): void {
  if (seenTat.size >= MAX_SEEN) seenTat.clear();
  seenTat.set(id, tat);
}

/**
 * Takes `units` from the bucket at `now` for a token issued at `issuedAt` (epoch seconds); at
 * most four writes when racing other takers.
 */
export async function take(
  bucket: Bucket,
  units: number,
  now = Date.now(),
  issuedAt = Number.MAX_SAFE_INTEGER,
): Promise<Take> {
  const cost = units * bucket.intervalMs;
  const latestTat = now + (bucket.burst - units) * bucket.intervalMs;
  // More than a full bucket holds is never taken, not even from an idle one (whose write below
  // checks only that it is idle): it would leave the bucket in debt, which every container then
  // refuses. The caller is told when that many would be there; it may take what is left.
  if (latestTat < now) return { taken: false, retryAfterMs: now - latestTat };
  let knownTat = seenTat.get(bucket.id);
  for (let attempt = 0; attempt < 3; attempt++) {
    const busy = knownTat !== undefined && knownTat > now;
    if (busy && (knownTat as number) > latestTat) {
      return { taken: false, retryAfterMs: (knownTat as number) - latestTat };
    }
    try {
      await db.send(
        new UpdateCommand({
          TableName: RATE_LIMITS_TABLE,
          Key: { bucket_id: bucket.id },
          ...(busy
            ? {
                UpdateExpression: `SET tat = tat + :cost, ${EXPIRES}`,
                ConditionExpression: `tat > :now AND tat <= :latest AND ${NOT_CUT}`,
                ExpressionAttributeValues: {
                  ":cost": cost,
                  ":now": now,
                  ":latest": latestTat,
                  ":iat": issuedAt,
                  ":expires": expiresAt((knownTat as number) + cost),
                },
              }
            : {
                UpdateExpression: `SET tat = :tat, ${EXPIRES}`,
                ConditionExpression: `(attribute_not_exists(tat) OR tat <= :now) AND ${NOT_CUT}`,
                ExpressionAttributeValues: {
                  ":tat": now + cost,
                  ":now": now,
                  ":iat": issuedAt,
                  ":expires": expiresAt(now + cost),
                },
              }),
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      );
      const tat = busy ? (knownTat as number) + cost : now + cost;
      remember(bucket.id, tat);
      return { taken: true, tat };
    } catch (error) {
      const refused = refusedTake(error, issuedAt);
      if (refused.cutOff) return { taken: false, cutOff: true };
      knownTat = refused.tat;
      if (knownTat !== undefined) remember(bucket.id, knownTat);
    }
  }
  // Three takers raced this one caller's bucket in a row, each time within the budget (a
  // bucket over it is refused above without a race): the caller's own concurrent requests. One
  // last write that cannot lose a race counts the units on whatever `tat` is stored (from a
  // past one it charges less than the idle reset would: once, never past the burst).
  try {
    const written = await db.send(
      new UpdateCommand({
        TableName: RATE_LIMITS_TABLE,
        Key: { bucket_id: bucket.id },
        UpdateExpression: `SET tat = if_not_exists(tat, :now) + :cost, ${EXPIRES}`,
        ConditionExpression: `(attribute_not_exists(tat) OR tat <= :latest) AND ${NOT_CUT}`,
        ExpressionAttributeValues: {
          ":cost": cost,
          ":now": now,
          ":latest": latestTat,
          ":iat": issuedAt,
          ":expires": expiresAt(Math.max(now, knownTat ?? now) + cost),
        },
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        ReturnValues: "UPDATED_NEW",
      }),
    );
    const tat = Number(written.Attributes?.tat ?? now + cost);
    remember(bucket.id, tat);
    return { taken: true, tat };
  } catch (error) {
    const refused = refusedTake(error, issuedAt);
    if (refused.cutOff) return { taken: false, cutOff: true };
    knownTat = refused.tat;
    if (knownTat !== undefined) remember(bucket.id, knownTat);
    return {
      taken: false,
      retryAfterMs: Math.max(bucket.intervalMs, (knownTat ?? now) - latestTat),
    };
  }
}

/**
 * Transaction item: tokens of the bucket's caller issued at or before `cutAt` (epoch seconds)
 * are refused from now on, for `keepSeconds` (as long as such a token may live).
 */
export function cutTokens(bucketId: string, cutAt: number, keepSeconds: number) {
  return {
    Update: {
      TableName: RATE_LIMITS_TABLE,
      Key: { bucket_id: bucketId },
      UpdateExpression: "SET cut_at = :cut, keep_until = :keep, expires_at = :keep",
      ExpressionAttributeValues: { ":cut": cutAt, ":keep": cutAt + keepSeconds },
    },
  };
}

/** The `tat` this container last saw for a bucket (a lower bound of the stored one), if any. */
export function lastSeenTat(id: string): number | undefined {
  return seenTat.get(id);
}

/**
 * Adds `units` to the bucket whatever it holds: a charge made after the work it pays for, which
 * may take the budget below zero (its `tat` past the burst), so that the next take waits until
 * it is paid back. Negative units give back part of a reservation. Answers the new `tat`.
 */
export async function charge(bucket: Bucket, units: number, now = Date.now()): Promise<number> {
  const cost = units * bucket.intervalMs;
  for (let attempt = 0; attempt < 3; attempt++) {
    // Busy (a `tat` ahead of now) takes the charge on top; idle starts it from now. A refund
    // (negative units) applies to a busy bucket only: an idle one is already full.
    const busy = attempt % 2 === 0;
    if (!busy && units < 0) break;
    try {
      const written = await db.send(
        new UpdateCommand({
          TableName: RATE_LIMITS_TABLE,
          Key: { bucket_id: bucket.id },
          UpdateExpression: busy
            ? "SET tat = tat + :cost, expires_at = :expires"
            : "SET tat = :tat, expires_at = :expires",
          ConditionExpression: busy ? "tat > :now" : "attribute_not_exists(tat) OR tat <= :now",
          ExpressionAttributeValues: {
            ":now": now,
            ":expires": expiresAt(now + Math.max(0, cost) + bucket.burst * bucket.intervalMs),
            ...(busy ? { ":cost": cost } : { ":tat": now + cost }),
          },
          ReturnValues: "UPDATED_NEW",
        }),
      );
      const tat = Number(written.Attributes?.tat ?? now);
      remember(bucket.id, tat);
      return tat;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }
  return seenTat.get(bucket.id) ?? now;
}
