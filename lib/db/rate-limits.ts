/**
 * The rate-limits table: one item per caller and kind (`bucket_id: "<kind>#<sub>"`), holding
 * the generic cell rate algorithm's one number, `tat`: the time (epoch ms) up to which the
 * caller's budget is spent. Taking `n` units at `now` is allowed when
 * `max(tat, now) + n·interval - now <= burst·interval`, and moves `tat` there. DynamoDB cannot
 * compute a max, so a take is one of two conditional updates, each a single write:
 * - idle (`tat <= now` or no item): `tat = now + n·interval`;
 * - busy (`now < tat <= now + (burst - n)·interval`): `tat = tat + n·interval`.
 * A refusal returns the stored `tat` (ALL_OLD), which says when the units will be there.
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

/** Units taken (and the bucket's `tat` after), or the milliseconds until they could be. */
export type Take = { taken: true; tat: number } | { taken: false; retryAfterMs: number };

function expiresAt(tat: number): number {
  return Math.ceil(tat / 1000) + IDLE_SECONDS;
}

function conditionFailureTat(error: unknown): number | undefined {
  if (!isConditionFailure(error)) throw error;
  const item = (error as { Item?: Record<string, { N?: string }> }).Item;
  return item?.tat?.N === undefined ? undefined : Number(item.tat.N);
}

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

/** Takes `units` from the bucket at `now`; at most four writes when racing other takers. */
export async function take(bucket: Bucket, units: number, now = Date.now()): Promise<Take> {
  const cost = units * bucket.intervalMs;
  const latestTat = now + (bucket.burst - units) * bucket.intervalMs;
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
                UpdateExpression: "SET tat = tat + :cost, expires_at = :expires",
                ConditionExpression: "tat > :now AND tat <= :latest",
                ExpressionAttributeValues: {
                  ":cost": cost,
                  ":now": now,
                  ":latest": latestTat,
                  ":expires": expiresAt((knownTat as number) + cost),
                },
              }
            : {
                UpdateExpression: "SET tat = :tat, expires_at = :expires",
                ConditionExpression: "attribute_not_exists(tat) OR tat <= :now",
                ExpressionAttributeValues: {
                  ":tat": now + cost,
                  ":now": now,
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
      knownTat = conditionFailureTat(error);
      if (knownTat !== undefined) remember(bucket.id, knownTat);
    }
  }
  // Three takers raced this one caller's bucket in a row, each time within the budget (a
  // bucket over it is refused above without a race): the caller's own concurrent requests. One
  // last write that cannot lose a race counts the units on whatever `tat` is stored (from a
  // past one it charges less than the idle reset would: once, never past the burst).
  try {
    await db
      .send(
        new UpdateCommand({
          TableName: RATE_LIMITS_TABLE,
          Key: { bucket_id: bucket.id },
          UpdateExpression: "SET tat = if_not_exists(tat, :now) + :cost, expires_at = :expires",
          ConditionExpression: "attribute_not_exists(tat) OR tat <= :latest",
          ExpressionAttributeValues: {
            ":cost": cost,
            ":now": now,
            ":latest": latestTat,
            ":expires": expiresAt(Math.max(now, knownTat ?? now) + cost),
          },
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
          ReturnValues: "UPDATED_NEW",
        }),
      )
      .then((written) => remember(bucket.id, Number(written.Attributes?.tat ?? now + cost)));
    return { taken: true, tat: seenTat.get(bucket.id) ?? now + cost };
  } catch (error) {
    knownTat = conditionFailureTat(error);
    if (knownTat !== undefined) remember(bucket.id, knownTat);
    return {
      taken: false,
      retryAfterMs: Math.max(bucket.intervalMs, (knownTat ?? now) - latestTat),
    };
  }
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
