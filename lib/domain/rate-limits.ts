/**
 * Per-caller limits (CONTRACT: Per-caller limits): each caller (a user's sub, an M2M client's
 * `<id>@clients`) has a budget of USER_WRITES_PER_SECOND writes and USER_READS_PER_SECOND reads,
 * bursts of twice that, fleet-wide: the budgets live in DynamoDB (lib/db/rate-limits.ts), not
 * in a container. Over it: 429 `rate_limited` with Retry-After, before any other work.
 *
 * Writes are counted exactly: one conditional write per request. Reads are taken in batches per
 * container, sized from how fast the caller reads here (a batch lasts about half a second at that
 * pace, at most a quarter of a second's budget) and used within a second, so that most reads cost
 * nothing; a batch is taken from the shared budget before it is used, so a caller never reads
 * more than the budget allows. A caller reading slowly here takes one unit at a time and loses
 * none; units are lost only when a caller's reads in a container slow down to less than half
 * their pace, at most one batch (READ_BATCH - 1 units) each time.
 *
 * A refusal is remembered in the container until the budget refills (`blockedUntil`): the
 * caller's next requests are refused there and then, without a request to the shared table, so
 * that one caller's flood does not spend the table's write throughput that every caller shares.
 *
 * The same takes refuse a deleted account's old tokens (CONTRACT: Tokens outlive nothing): the
 * deletion stamps its time on the caller's two budget items (`tokenCutOff`), and a take by a
 * token issued at or before it is 401. It costs no request: the condition rides the write the
 * limit makes anyway. Its one gap is the read batch: units a container took before the cut are
 * used there for at most HELD_FOR_MS (a second) after it, by reads only.
 */
import { config } from "../config.ts";
import { type Bucket, cutTokens, type Take, take } from "../db/rate-limits.ts";
import { TooManyRequestsError, UnauthorizedError } from "../errors.ts";
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
interface HeldReads {
  units: number;
  usableUntil: number;
  /** When the batch was taken, and its size: the pace the next batch is sized from. */
  takenAt: number;
  size: number;
}
const heldReads = new Map<string, HeldReads>();
const READ_BATCH = Math.max(1, Math.floor(userReadsPerSecond / 4));
const HELD_FOR_MS = 1_000;
/** A container serving many callers forgets what it holds rather than grow without bound. */
const MAX_HELD = 10_000;

/** Per bucket, until when (epoch ms) this container knows its budget is spent. */
const blockedUntil = new Map<string, number>();

function refuse(kind: RequestKind, retryAfterMs: number): never {
  metric("RateLimited", 1, kind);
  throw new TooManyRequestsError(
    `Too many ${kind}: at most ${RATES[kind]} per second (bursts of ${2 * RATES[kind]}); retry after the time Retry-After gives`,
    "rate_limited",
    Math.max(1, Math.ceil(retryAfterMs / 1000)),
  );
}

/** Refuses at once, with no table request, a bucket this container saw spent. */
function refuseIfBlocked(kind: RequestKind, bucket: Bucket, now: number): void {
  const until = blockedUntil.get(bucket.id);
  if (until === undefined) return;
  if (now < until) refuse(kind, until - now);
  blockedUntil.delete(bucket.id);
}

/** A refusal from the shared table: remembered until the units will be there, then refused. */
function refuseAndRemember(kind: RequestKind, bucket: Bucket, now: number, retryAfterMs: number) {
  if (blockedUntil.size >= MAX_HELD) blockedUntil.clear();
  blockedUntil.set(bucket.id, now + retryAfterMs);
  return refuse(kind, retryAfterMs);
}

/** The longest a token may live (lib/auth/verify.ts refuses longer): how long a cut is kept. */
const TOKEN_LIFETIME_SECONDS = 30 * 24 * 3600;

/**
 * Transaction items: every token of `sub` issued at or before `at` (epoch ms) is refused from
 * now on, for as long as such a token may live.
 */
export function tokenCutOff(sub: string, at: number) {
  const cutAt = Math.floor(at / 1000);
  return {
    readsCut: cutTokens(bucketOf("reads", sub).id, cutAt, TOKEN_LIFETIME_SECONDS),
    writesCut: cutTokens(bucketOf("writes", sub).id, cutAt, TOKEN_LIFETIME_SECONDS),
  };
}

function refuseCutOff(): never {
  throw new UnauthorizedError(
    "This token was issued before its account was deleted: log in again",
    "The token was issued before its account was deleted",
  );
}

/** A refused take: 401 for a cut-off token, else 429 (remembered until the budget refills). */
function refuseTake(
  kind: RequestKind,
  bucket: Bucket,
  now: number,
  taken: Exclude<Take, { taken: true }>,
): never {
  if ("cutOff" in taken) refuseCutOff();
  return refuseAndRemember(kind, bucket, now, taken.retryAfterMs);
}

/** One write of `sub` with a token issued at `issuedAt` (epoch s), or 429 rate_limited. */
export async function spendWrite(sub: string, issuedAt?: number): Promise<void> {
  const bucket = bucketOf("writes", sub);
  const now = Date.now();
  refuseIfBlocked("writes", bucket, now);
  const taken = await take(bucket, 1, now, issuedAt);
  if (!taken.taken) refuseTake("writes", bucket, now, taken);
}

/** A batch being taken for a caller: concurrent reads wait for it instead of taking their own. */
const takingReads = new Map<string, Promise<void>>();

function useHeldRead(sub: string, now: number): boolean {
  const held = heldReads.get(sub);
  if (!held || held.units <= 0 || now >= held.usableUntil) return false;
  held.units -= 1;
  return true;
}

/**
 * The size of the next batch: what lasts about half a second at the pace the last batch was used
 * (so that it is used up before its second ends), one unit when the last one expired unused.
 */
function nextBatchSize(previous: HeldReads | undefined, now: number): number {
  if (!previous || previous.units > 0) return 1;
  const pacePerMs = previous.size / Math.max(1, now - previous.takenAt);
  return Math.min(READ_BATCH, Math.max(1, Math.floor((pacePerMs * HELD_FOR_MS) / 2)));
}

async function takeReads(sub: string, issuedAt: number | undefined): Promise<void> {
  const now = Date.now();
  const bucket = bucketOf("reads", sub);
  refuseIfBlocked("reads", bucket, now);
  // A batch when the caller reads fast enough here and the budget has it; else exactly one.
  let units = nextBatchSize(heldReads.get(sub), now);
  let taken = await take(bucket, units, now, issuedAt);
  if (!taken.taken && !("cutOff" in taken) && units > 1) {
    units = 1;
    taken = await take(bucket, units, now, issuedAt);
  }
  if (!taken.taken) refuseTake("reads", bucket, now, taken);
  if (heldReads.size >= MAX_HELD) heldReads.clear();
  // This read takes one unit; the rest wait here for the caller's next reads.
  heldReads.set(sub, {
    units: units - 1,
    usableUntil: now + HELD_FOR_MS,
    takenAt: now,
    size: units,
  });
}

/**
 * One read of `sub`, from this container's held batch when it has one, or 429 rate_limited.
 * (A Lambda container serves one request at a time; a process serving many at once, as the
 * tests do, takes one batch at a time per caller, the others waiting for it.)
 */
export async function spendRead(sub: string, issuedAt?: number): Promise<void> {
  for (;;) {
    if (useHeldRead(sub, Date.now())) return;
    const pending = takingReads.get(sub);
    if (!pending) break;
    await pending.catch(() => undefined);
  }
  const taking = takeReads(sub, issuedAt).finally(() => takingReads.delete(sub));
  takingReads.set(sub, taking);
  await taking;
}

/** The kind of request an HTTP method makes: GET and HEAD read, the rest write. */
export function kindOf(method: string): RequestKind {
  return method === "GET" || method === "HEAD" ? "reads" : "writes";
}
