import { setTimeout as sleep } from "node:timers/promises";

/**
 * The one retry policy: up to `attempts` tries, waiting a random time in [0, min(cap, base·2^n))
 * between them ("full jitter"), so colliding writers do not retry in lockstep.
 */
export interface RetryPolicy {
  attempts: number;
  baseMs: number;
  capMs: number;
}

/**
 * Transactions cancelled by a concurrent write (every create and play of one user updates the
 * user's counter item), and conditional writes that lost a race. The worst case, about 2 s of
 * backoff in all, stays well inside a 10 s timeout.
 */
export const CONTENTION: RetryPolicy = { attempts: 12, baseMs: 5, capMs: 250 };
/**
 * Metadata writes: dozens of writers on one profile at once (40 concurrent PATCHes take about
 * 7 attempts each locally); the worst case, about 40 × 150 ms, stays inside a 10 s timeout.
 */
export const METADATA_CONTENTION: RetryPolicy = { attempts: 40, baseMs: 5, capMs: 150 };
/** Items DynamoDB left unprocessed in a batch (throttling): back off longer. */
export const UNPROCESSED_ITEMS: RetryPolicy = { attempts: 8, baseMs: 20, capMs: 1_000 };

export class RetriesExhausted extends Error {}

/**
 * Runs `attempt` until it returns a value other than `again`, at most `policy.attempts` times.
 * `attempt` receives the try number (1-based). Exhausted: RetriesExhausted.
 */
export async function retry<T>(
  policy: RetryPolicy,
  attempt: (n: number, again: typeof AGAIN) => Promise<T | typeof AGAIN>,
): Promise<T> {
  for (let n = 1; n <= policy.attempts; n++) {
    const result = await attempt(n, AGAIN);
    if (result !== AGAIN) return result;
    if (n < policy.attempts)
      await sleep(Math.random() * Math.min(policy.capMs, policy.baseMs * 2 ** n));
  }
  throw new RetriesExhausted(`gave up after ${policy.attempts} attempts`);
}

export const AGAIN: unique symbol = Symbol("again");
