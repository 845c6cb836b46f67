/**
 * Per-caller limits (CONTRACT: Per-caller limits): each caller (a user's sub, an M2M client's
 * `<id>@clients`) has a budget of USER_WRITES_PER_SECOND writes and USER_READS_PER_SECOND reads,
 * bursts of twice that, fleet-wide: the budgets live in DynamoDB (lib/db/rate-limits.ts), not
 * in a container. Over it: 429 `rate_limited` with Retry-After, before any other work.
 *
 * Writes are counted exactly: one conditional write per request. Reads are taken in batches of
 * a quarter of a second's worth per container and used within a second, so that most reads cost
 * nothing; a batch is taken from the shared budget before it is used, so a caller never reads
 * more than the budget allows, and a batch left unused in an idle container is lost (the caller
 * gets slightly less, never more).
 */
import { config } from "../config.ts";
import { type Bucket, take } from "../db/rate-limits.ts";
import { TooManyRequestsError } from "../errors.ts";
import { metric } from "../metrics.ts";

const { userReadsPerSecond, userWritesPerSecond } = config();

export type RequestKind = "reads" | "writes";

const RATES: Record<RequestKind, number> = {
  reads: userReadsPerSecond,
  writes: userWritesPerSecond,
};

const bucketOf = (kind: RequestKind, sub: string): Bucket => ({
  id: `${kind}#${sub}`,
  intervalMs: 1000 / RATES[kind],
  // The contract's burst: twice the rate.
  burst: 2 * RATES[kind],
});

/** Reads taken from the shared budget and not used yet, per caller, in this container. */
const heldReads = new Map<string, { units: number; usableUntil: number }>();
const READ_BATCH = Math.max(1, Math.floor(userReadsPerSecond / 4));
const HELD_FOR_MS = 1_000;
/** A container serving many callers forgets held batches rather than grow without bound. */
const MAX_HELD = 10_000;

function refuse(kind: RequestKind, retryAfterMs: number): never {
  metric("RateLimited", 1, kind);
  throw new TooManyRequestsError(
    `Too many ${kind}: at most ${RATES[kind]} per second (bursts of ${2 * RATES[kind]}); retry after the time Retry-After gives`,
    "rate_limited",
    Math.max(1, Math.ceil(retryAfterMs / 1000)),
  );
}

/** One write of `sub`, or 429 rate_limited. */
export async function spendWrite(sub: string): Promise<void> {
  const taken = await take(bucketOf("writes", sub), 1);
  if (!taken.taken) refuse("writes", taken.retryAfterMs);
}

/** A batch being taken for a caller: concurrent reads wait for it instead of taking their own. */
const takingReads = new Map<string, Promise<void>>();

function useHeldRead(sub: string, now: number): boolean {
  const held = heldReads.get(sub);
  if (!held || held.units <= 0 || now >= held.usableUntil) return false;
  held.units -= 1;
  return true;
}

async function takeReads(sub: string): Promise<void> {
  const now = Date.now();
  const bucket = bucketOf("reads", sub);
  // A whole batch when the budget has it; near the limit, exactly the one read asked for.
  let units = READ_BATCH;
  let taken = await take(bucket, units, now);
  if (!taken.taken && units > 1) {
    units = 1;
    taken = await take(bucket, units, now);
  }
  if (!taken.taken) refuse("reads", taken.retryAfterMs);
  if (heldReads.size >= MAX_HELD) heldReads.clear();
  // This read takes one unit; the rest wait here for the caller's next reads.
  heldReads.set(sub, { units: units - 1, usableUntil: now + HELD_FOR_MS });
}

/**
 * One read of `sub`, from this container's held batch when it has one, or 429 rate_limited.
 * (A Lambda container serves one request at a time; a process serving many at once, as the
 * tests do, takes one batch at a time per caller, the others waiting for it.)
 */
export async function spendRead(sub: string): Promise<void> {
  for (;;) {
    if (useHeldRead(sub, Date.now())) return;
    const pending = takingReads.get(sub);
    if (!pending) break;
    await pending.catch(() => undefined);
  }
  const taking = takeReads(sub).finally(() => takingReads.delete(sub));
  takingReads.set(sub, taking);
  await taking;
}

/** The kind of request an HTTP method makes: GET and HEAD read, the rest write. */
export function kindOf(method: string): RequestKind {
  return method === "GET" || method === "HEAD" ? "reads" : "writes";
}
