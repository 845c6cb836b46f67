import { config } from "../../lib/config.ts";
import { dynamodb } from "../../lib/db/client.ts";

/**
 * Counts the DynamoDB requests the functions make, by an SDK middleware on the shared client:
 * the round trips a route costs, as AWS would bill and time them. The per-caller limit's own
 * request (one conditional write per write, one per batch of reads) is counted apart
 * (`limiterCallsOf`), so that a route's figures do not depend on whether its container holds
 * a batch of reads.
 */
const calls: string[] = [];
const limiterCalls: string[] = [];
const RATE_LIMITS_TABLE = config().tables.rateLimits;
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      const table = (args.input as { TableName?: string }).TableName;
      (table === RATE_LIMITS_TABLE ? limiterCalls : calls).push(context.commandName ?? "unknown");
      return next(args);
    },
    { step: "initialize", name: "testCallCounter" },
  );
}

/** Runs `work` and answers the DynamoDB operations it sent, in order. */
export async function dynamoCallsOf(work: () => Promise<unknown>): Promise<string[]> {
  install();
  const start = calls.length;
  await work();
  return calls.slice(start);
}

/** Runs `work` and answers the requests the per-caller limit sent for it. */
export async function limiterCallsOf(work: () => Promise<unknown>): Promise<string[]> {
  install();
  const start = limiterCalls.length;
  await work();
  return limiterCalls.slice(start);
}
