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

/** Every request's reported units (ReturnConsumedCapacity), with its input, beside the calls. */
const spent: { input: string; read: number; write: number }[] = [];
let measuring = false;

function measure(): void {
  if (measuring) return;
  measuring = true;
  dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      input.ReturnConsumedCapacity ??= "TOTAL";
      const result = await next(args);
      if (input.TableName === RATE_LIMITS_TABLE) return result;
      const consumed = (result.output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
      const units = [consumed ?? []]
        .flat()
        .reduce(
          (sum: number, c) => sum + ((c as { CapacityUnits?: number }).CapacityUnits ?? 0),
          0,
        );
      const write = /Put|Update|Delete|Write/.test(context.commandName ?? "");
      spent.push({
        input: JSON.stringify(input),
        read: write ? 0 : units,
        write: write ? units : 0,
      });
      return result;
    },
    { step: "initialize", name: "testCapacity", priority: "low" },
  );
}

/**
 * The units the tables (not the limiter's) report for the requests `work` sends whose input
 * mentions `text` (a user's id, a table's name), counted apart from the code's own meter.
 */
export async function unitsOf(
  text: string,
  work: () => Promise<unknown>,
): Promise<{ read: number; write: number }> {
  measure();
  const start = spent.length;
  await work();
  const mine = spent.slice(start).filter((call) => call.input.includes(text));
  return {
    read: mine.reduce((sum, call) => sum + call.read, 0),
    write: mine.reduce((sum, call) => sum + call.write, 0),
  };
}

/** The read units spent on `sub`'s behalf while `work` ran (their key names them). */
export async function readUnitsOf(sub: string, work: () => Promise<unknown>): Promise<number> {
  return (await unitsOf(JSON.stringify(sub).slice(1, -1), work)).read;
}
