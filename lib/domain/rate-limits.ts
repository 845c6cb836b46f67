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
import type { Meter } from "../db/capacity.ts";
import { type Bucket, charge, cutTokens, lastSeenTat, type Take, take } from "../db/rate-limits.ts";
import { TooManyRequestsError, UnauthorizedError } from "../errors.ts";
import { metric } from "../metrics.ts";

const { userReadsPerSecond, userWritesPerSecond, userReadUnitsPerSecond, userWriteUnitsPerSecond } =
  config();

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

function refuse(kind: RequestKind, retryAfterMs: number, bucketId = ""): never {
  const units = bucketId.startsWith("units-");
  metric("RateLimited", 1, units ? `${kind}-units` : kind);
  throw new TooManyRequestsError(
    units
      ? `Too much ${kind === "reads" ? "reading" : "writing"}: your requests may make the tables spend ${UNIT_RATES[kind]} ${kind === "reads" ? "read" : "write"} units per second (bursts of ${2 * UNIT_RATES[kind]}); retry after the time Retry-After gives`
      : `Too many ${kind}: at most ${RATES[kind]} per second (bursts of ${2 * RATES[kind]}); retry after the time Retry-After gives`,
    "rate_limited",
    Math.max(1, Math.ceil(retryAfterMs / 1000)),
  );
}

/** Refuses at once, with no table request, a bucket this container saw spent. */
function refuseIfBlocked(kind: RequestKind, bucket: Bucket, now: number): void {
  const until = blockedUntil.get(bucket.id);
  if (until === undefined) return;
  if (now < until) refuse(kind, until - now, bucket.id);
  blockedUntil.delete(bucket.id);
}

/** A refusal from the shared table: remembered until the units will be there, then refused. */
function refuseAndRemember(kind: RequestKind, bucket: Bucket, now: number, retryAfterMs: number) {
  if (blockedUntil.size >= MAX_HELD) blockedUntil.clear();
  blockedUntil.set(bucket.id, now + retryAfterMs);
  return refuse(kind, retryAfterMs, bucket.id);
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

/*
 * Budgets in capacity units (CONTRACT: Per-caller limits): what a caller's requests make the
 * tables spend, as DynamoDB reports it (lib/db/capacity.ts), against USER_READ_UNITS_PER_SECOND
 * and USER_WRITE_UNITS_PER_SECOND, bursts of twice that, in buckets beside the request counts.
 *
 * A request's cost is known only after it ran, so it is charged then, and may take the budget
 * below zero: the caller then waits until it is paid back. Before it runs, the request reserves
 * what the caller's last request of its route cost in this container, or the route's declared
 * `maxUnits` before that (at most what is left): while a costly request
 * runs, the caller's other requests see the budget it will spend, so parallel requests cannot
 * each start on the same units. Over any time T a caller makes the tables spend at most
 * burst + rate × T + one request's cost, and no request reads or writes more than
 * MAX_REQUEST_UNITS (lib/db/capacity.ts; pages are cut by cost).
 *
 * What it costs the limiter: units are taken from the shared bucket in batches held by the
 * container for a second (a batch doubles while the caller uses each one up, up to a quarter
 * of the burst), reservations and give-backs come out of and go back into the held batch, and
 * a charge under one unit waits for the next; so a caller reading steadily spends one limiter
 * write per many requests, and a caller never spends more than the shared bucket gave.
 */

const UNIT_RATES: Record<RequestKind, number> = {
  reads: userReadUnitsPerSecond,
  writes: userWriteUnitsPerSecond,
};

const unitBucketOf = (kind: RequestKind, sub: string): Bucket => ({
  id: `units-${kind}#${sub}`,
  intervalMs: 1000 / UNIT_RATES[kind],
  burst: 2 * UNIT_RATES[kind],
});

/** What a caller's request of a route last cost here, per kind: its next reservation. */
const lastCost = new Map<string, number>();

/** Units taken from a shared bucket and not spent yet, held by this container for a while. */
interface HeldUnits {
  units: number;
  usableUntil: number;
  /** The size of the last batch taken: the next one doubles it when this one is used up. */
  batch: number;
}
const heldUnits = new Map<string, HeldUnits>();
/** A charge under one unit, kept until it adds up to one (per bucket). */
const unwritten = new Map<string, number>();

function bounded<V>(map: Map<string, V>): Map<string, V> {
  if (map.size >= MAX_HELD) map.clear();
  return map;
}

/** Units a request reserved before it ran, to be settled against what it spent. */
export interface Reservation {
  sub: string;
  route: string;
  kind: RequestKind;
  units: number;
}

const METER_KINDS: Record<RequestKind, keyof Meter> = { reads: "read", writes: "write" };

/** A budget this container saw spent below zero: refused at once, until it is paid back. */
function refuseIfInDebt(kind: RequestKind, bucket: Bucket, now: number): void {
  refuseIfBlocked(kind, bucket, now);
  const tat = lastSeenTat(bucket.id);
  const full = now + bucket.burst * bucket.intervalMs;
  if (tat !== undefined && tat > full) refuseAndRemember(kind, bucket, now, tat - full);
}

/** The units a bucket's held batch still has now (an expired batch has none). */
function heldNow(id: string, now: number): number {
  const held = heldUnits.get(id);
  return held && now < held.usableUntil ? Math.max(0, held.units) : 0;
}

/**
 * Before a request of `kind` on `route`: both unit budgets must not be spent, and the request
 * reserves its expected cost from its own kind's, or 429 rate_limited. Expected: what the
 * caller's last request of the route cost here, else the route's `maxUnits` (one unit unless
 * it declares more), at most what is left.
 */
export async function reserveUnits(
  sub: string,
  kind: RequestKind,
  route: string,
  maxUnits = 1,
): Promise<Reservation> {
  const bucket = unitBucketOf(kind, sub);
  const other = unitBucketOf(kind === "reads" ? "writes" : "reads", sub);
  const expected = lastCost.get(`${kind}#${sub}#${route}`) ?? maxUnits;
  // One take from the shared bucket at a time per caller here: requests arriving meanwhile wait
  // for its batch instead of each taking their own (a Lambda container serves one request at a
  // time; serverless-offline's workers and the tests serve many).
  for (;;) {
    const now = Date.now();
    refuseIfInDebt(kind, bucket, now);
    refuseIfInDebt(kind === "reads" ? "writes" : "reads", other, now);
    const held = heldUnits.get(bucket.id);
    if (held && heldNow(bucket.id, now) >= expected) {
      held.units -= expected;
      return { sub, route, kind, units: expected };
    }
    const pending = takingUnits.get(bucket.id);
    if (!pending) break;
    await pending.catch(() => undefined);
  }
  const taking = takeUnits(kind, bucket, expected);
  const settled = taking.then(
    () => undefined,
    () => undefined,
  );
  takingUnits.set(bucket.id, settled);
  try {
    return { sub, route, kind, units: await taking };
  } finally {
    if (takingUnits.get(bucket.id) === settled) takingUnits.delete(bucket.id);
  }
}

/** A take in flight per unit bucket, for the requests that arrive while it runs. */
const takingUnits = new Map<string, Promise<void>>();

/**
 * Takes a batch from the shared bucket for a request expecting to spend `expected`: what it
 * lacks, or a batch that doubles while the caller uses each one up here; at least what is left
 * when less than that is. Answers what the request reserved; the rest is held here.
 */
async function takeUnits(kind: RequestKind, bucket: Bucket, expected: number): Promise<number> {
  const now = Date.now();
  const held = heldNow(bucket.id, now);
  const previous = heldUnits.get(bucket.id);
  const batch =
    previous && previous.units <= 0
      ? Math.min(Math.floor(bucket.burst / 4), Math.max(1, 2 * previous.batch))
      : 1;
  let units = Math.max(1, Math.ceil(expected - held), batch);
  let taken = await take(bucket, units, now);
  if (!taken.taken && !("cutOff" in taken) && units > 1) {
    // Not all of it is left: what is left, and the rest charged after.
    const left = Math.floor(units - taken.retryAfterMs / bucket.intervalMs);
    if (left >= 1) {
      units = left;
      taken = await take(bucket, units, now);
    }
  }
  if (!taken.taken) {
    // Unit buckets carry no token cut-off (the request counts' buckets do): only a wait.
    if (held <= 0) {
      refuseAndRemember(kind, bucket, now, "retryAfterMs" in taken ? taken.retryAfterMs : 0);
    }
    units = 0;
  }
  const reserved = Math.min(expected, held + units);
  bounded(heldUnits).set(bucket.id, {
    units: held + units - reserved,
    usableUntil: now + HELD_FOR_MS,
    batch: units,
  });
  return reserved;
}

/** After a request: what it spent, less what it reserved, charged to each unit budget. */
export async function settleUnits(reservation: Reservation, spent: Meter): Promise<void> {
  const { sub, route, kind } = reservation;
  bounded(lastCost).set(`${kind}#${sub}#${route}`, spent[METER_KINDS[kind]]);
  const now = Date.now();
  await Promise.all(
    (["reads", "writes"] as const).map(async (each) => {
      const bucket = unitBucketOf(each, sub);
      const reserved = each === kind ? reservation.units : 0;
      let owed = (unwritten.get(bucket.id) ?? 0) + spent[METER_KINDS[each]] - reserved;
      unwritten.delete(bucket.id);
      // Paid from, or given back to, the batch this container holds.
      const held = heldUnits.get(bucket.id);
      if (held && now < held.usableUntil) {
        const paid = Math.min(Math.max(0, held.units), owed);
        held.units -= paid;
        owed -= paid;
      }
      if (Math.abs(owed) < 1) {
        if (owed !== 0) bounded(unwritten).set(bucket.id, owed);
        return;
      }
      await charge(bucket, owed, now);
    }),
  );
}

/**
 * The IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers) of a caller's two unit
 * budgets, as this container last saw them, its held batch counted as spent: `q` the burst,
 * `r` what remains, `t` the seconds until the budget is full again.
 */
export function rateLimitFields(sub: string, now = Date.now()): Record<string, string> {
  const policy: string[] = [];
  const state: string[] = [];
  for (const kind of ["reads", "writes"] as const) {
    const bucket = unitBucketOf(kind, sub);
    const ahead = Math.max(0, (lastSeenTat(bucket.id) ?? now) - now);
    const remaining = Math.floor(
      bucket.burst - ahead / bucket.intervalMs + heldNow(bucket.id, now),
    );
    policy.push(`"${kind}";q=${bucket.burst};w=1`);
    state.push(
      `"${kind}";r=${Math.min(bucket.burst, Math.max(0, remaining))};t=${Math.ceil(ahead / 1000)}`,
    );
  }
  return { "RateLimit-Policy": policy.join(", "), RateLimit: state.join(", ") };
}
