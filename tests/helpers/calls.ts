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
const limiterCalls: { command: string; units: boolean }[] = [];
const RATE_LIMITS_TABLE = config().tables.rateLimits;
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { TableName?: string; Key?: { bucket_id?: unknown } };
      // The document client's key, plain or already marshalled.
      const bucket = input.Key?.bucket_id;
      const bucketId = String((bucket as { S?: string })?.S ?? bucket);
      const command = context.commandName ?? "unknown";
      if (input.TableName !== RATE_LIMITS_TABLE) calls.push(command);
      else limiterCalls.push({ command, units: bucketId.startsWith("units-") });
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

/**
 * Runs `work` and answers the requests the per-caller limit sent for it: for the request counts,
 * or (`"units"`) for the budgets in capacity units.
 */
export async function limiterCallsOf(
  work: () => Promise<unknown>,
  budget: "counts" | "units" = "counts",
): Promise<string[]> {
  install();
  const start = limiterCalls.length;
  await work();
  return limiterCalls
    .slice(start)
    .filter((call) => call.units === (budget === "units"))
    .map((call) => call.command);
}
