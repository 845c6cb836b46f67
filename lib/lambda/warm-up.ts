import { prefetchKeys } from "../auth/verify.ts";
import { config } from "../config.ts";
import { openConnection } from "../db/client.ts";

/**
 * How long a container's init may wait for the warm-up. An issuer or DynamoDB outage cannot
 * stall init beyond it: the first request then finishes what is left (a key set fetch still
 * under way is shared, not repeated).
 */
const WARM_UP_BUDGET_MS = 1_000;

/** A table a function reads, and how to make a key of it for a subject. */
export interface WarmUpTarget {
  table: string;
  keyOf: (subject: string) => Record<string, string>;
}

/** Whose key the warm-up read asks for: no Auth0 user id looks like it. */
const WARM_UP_SUBJECT = "#warm-up";

/**
 * Top-level await in each function module: fetches the issuer's key set and opens the DynamoDB
 * connection while Lambda initialises the container, both at once, so that the first request
 * finds them ready. Failures are left to the first request, which reports them as usual.
 * Off unless INIT_WARM_UP=true: measured by `npm run bench`, it costs more than it saves where
 * the issuer and DynamoDB are near (docs/cost-and-performance.md: Performance says when to turn it on).
 * The target names a table the function may read and makes a key of it for a subject; each
 * lib/domain module that reads a table offers one.
 */
export async function warmContainer({ table, keyOf }: WarmUpTarget): Promise<void> {
  if (!config().warmUpOnInit) return;
  const signal = AbortSignal.timeout(WARM_UP_BUDGET_MS);
  const work = Promise.allSettled([
    prefetchKeys(),
    openConnection(table, keyOf(WARM_UP_SUBJECT), signal),
  ]);
  const budget = new Promise((resolve) => setTimeout(resolve, WARM_UP_BUDGET_MS).unref());
  await Promise.race([work, budget]);
}
