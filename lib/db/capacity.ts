/**
 * What a request makes the tables spend (CONTRACT: Per-caller limits): every DynamoDB call made
 * inside `metered` asks for ReturnConsumedCapacity TOTAL and adds what DynamoDB reports to the
 * request's meter, reads and writes apart, so the caller can be charged after the request ran.
 *
 * The meter follows the request through AsyncLocalStorage, so a process serving many requests
 * at once (the tests, serverless-offline's workers) keeps each request's units apart, and the
 * code that reads or writes a table needs to know nothing of it. A refused write (a failed
 * condition, a cancelled transaction) reports no capacity, yet DynamoDB bills it: it is counted
 * as one write unit per item it named, DynamoDB's least charge for a write.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";

/** Units spent so far by one request, as DynamoDB counts them. */
export interface Meter {
  read: number;
  write: number;
}

const current = new AsyncLocalStorage<Meter>();

/** The most units one request may read or write (CONTRACT): pages are cut by cost to stay in. */
export const MAX_REQUEST_UNITS = 1_000;

/** The most one Query can read: 1 MB, at 4 KB a unit when strongly consistent. */
export const QUERY_UNITS_AT_MOST = 256;

/** Runs `work` with `meter` adding up the units its DynamoDB calls spend. */
export function metered<T>(work: () => Promise<T>, meter: Meter): Promise<T> {
  return current.run(meter, work);
}

/**
 * The read units the request this call belongs to may still spend within MAX_REQUEST_UNITS: what
 * a page cut by cost checks before each read (all of them outside `metered`).
 */
export function readUnitsLeft(): number {
  return MAX_REQUEST_UNITS - (current.getStore()?.read ?? 0);
}

const WRITES = new Set([
  "PutItemCommand",
  "UpdateItemCommand",
  "DeleteItemCommand",
  "BatchWriteItemCommand",
  "TransactWriteItemsCommand",
]);
const READS = new Set([
  "GetItemCommand",
  "QueryCommand",
  "ScanCommand",
  "BatchGetItemCommand",
  "TransactGetItemsCommand",
]);

type Consumed = { CapacityUnits?: number } | { CapacityUnits?: number }[] | undefined;

const unitsOf = (consumed: Consumed) =>
  [consumed ?? []].flat().reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);

/** The items a write names: what a refused one is billed for, at one unit each. */
function itemsNamed(input: Record<string, unknown>): number {
  if (Array.isArray(input.TransactItems)) return input.TransactItems.length;
  if (input.RequestItems && typeof input.RequestItems === "object") {
    return Object.values(input.RequestItems as Record<string, unknown[]>).reduce(
      (sum, requests) => sum + requests.length,
      0,
    );
  }
  return 1;
}

/** Adds ReturnConsumedCapacity to every call made inside `metered`, and meters the answer. */
export function meterCapacity(client: DynamoDBClient): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const meter = current.getStore();
      const command = context.commandName ?? "";
      const isWrite = WRITES.has(command);
      if (!meter || (!isWrite && !READS.has(command))) return next(args);
      const input = args.input as Record<string, unknown>;
      input.ReturnConsumedCapacity ??= "TOTAL";
      try {
        const result = await next(args);
        const units = unitsOf((result.output as { ConsumedCapacity?: Consumed }).ConsumedCapacity);
        if (isWrite) meter.write += units;
        else meter.read += units;
        return result;
      } catch (error) {
        if (isWrite) meter.write += itemsNamed(input);
        throw error;
      }
    },
    { step: "initialize", name: "meterCapacity" },
  );
}
