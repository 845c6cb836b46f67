import { setTimeout as sleep } from "node:timers/promises";

/**
 * The one retry policy: up to `attempts` tries, waiting a random time in [0, min(cap, base·2^n))
 * between them ("full jitter"), so colliding writers do not retry in lockstep. A retried step
 * never holds a retry of its own (the attempts would multiply): each policy's comment states
 * its worst case.
 */
export interface RetryPolicy {
  attempts: number;
  baseMs: number;
  capMs: number;
}

/**
 * Transactions cancelled by a concurrent write (every create and play of one user updates the
 * user's counter item), and conditional writes that lost a race (a metadata write of keys another
 * write changed first: lib/db/profiles.ts). Worst case: 5 attempts and
 * under 10 + 20 + 40 + 80 = 150 ms of backoff, each attempt one request (at most 1.5 s each,
 * the client's request timeout: lib/db/client.ts); past it, 409 or 503 with Retry-After.
 */
export const CONTENTION: RetryPolicy = { attempts: 5, baseMs: 5, capMs: 100 };
/**
 * Items DynamoDB left unprocessed in a batch (throttling): back off longer. Worst case: 8
 * requests and under 40 + 80 + 160 + 320 + 640 + 1,000 + 1,000 = 3.2 s of backoff.
 */
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
