import {
  createServer,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";

export type ProxyMode = "pass" | "hang" | "throttle" | "reset";

/** A DynamoDB request as a function sent it: the operation and its JSON input. */
export interface RecordedRequest {
  operation: string;
  input: Record<string, unknown>;
}

const WRITES = new Set([
  "PutItem",
  "UpdateItem",
  "DeleteItem",
  "BatchWriteItem",
  "TransactWriteItems",
]);

/** The write and read capacity DynamoDB reports for one request (ReturnConsumedCapacity). */
function capacityOf(responseText: string): number {
  try {
    const { ConsumedCapacity } = JSON.parse(responseText) as {
      ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[];
    };
    return [ConsumedCapacity ?? []].flat().reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
  } catch {
    return 0;
  }
}

/** What the proxy recorded since its last reset. */
interface Recorded {
  operations: string[];
  capacity: { operation: string; table: string | undefined; units: number; input: string }[];
  requests: RecordedRequest[];
}

/** The DynamoDB operation of a request, from its X-Amz-Target (`DynamoDB_20120810.PutItem`). */
function operationOf(incoming: IncomingMessage): string {
  const target = String(incoming.headers["x-amz-target"] ?? "?");
  return target.slice(target.indexOf(".") + 1);
}

/** Answers as DynamoDB answers an error: 400, with the error's JSON `body`. */
function answerError(outgoing: ServerResponse, body: Record<string, unknown>): void {
  outgoing.writeHead(400, { "content-type": "application/x-amz-json-1.0" });
  outgoing.end(JSON.stringify(body));
}

/** A transaction cancelled for a conflict, as DynamoDB does under contention. */
function cancelForConflict(outgoing: ServerResponse): void {
  answerError(outgoing, {
    __type: "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
    message:
      "Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict, None]",
    CancellationReasons: [
      { Code: "TransactionConflict", Message: "Transaction is ongoing for the item" },
      { Code: "None" },
    ],
  });
}

function throttle(outgoing: ServerResponse): void {
  answerError(outgoing, {
    __type: "com.amazonaws.dynamodb.v20120810#ThrottlingException",
    message: "Rate of requests exceeds the allowed throughput.",
  });
}

/** Passes one request to DynamoDB Local untouched; an unreachable upstream resets the connection. */
function forward(incoming: IncomingMessage, outgoing: ServerResponse, upstreamPort: number): void {
  const upstream = request(
    {
      host: "127.0.0.1",
      port: upstreamPort,
      method: incoming.method,
      path: incoming.url,
      headers: incoming.headers,
    },
    (response) => {
      outgoing.writeHead(response.statusCode ?? 500, response.headers);
      response.pipe(outgoing);
    },
  );
  upstream.on("error", () => incoming.socket.destroy());
  incoming.pipe(upstream);
}

/** One request with ReturnConsumedCapacity added, its reported capacity recorded. */
async function forwardMeasured(
  incoming: IncomingMessage,
  outgoing: ServerResponse,
  upstreamPort: number,
  recorded: Recorded,
): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  const input = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
  // Kept here, not read back from `requests` when the answer comes: requests run side by side.
  const operation = operationOf(incoming);
  const table = typeof input.TableName === "string" ? input.TableName : undefined;
  recorded.requests.push({ operation, input });
  const body = Buffer.from(JSON.stringify({ ...input, ReturnConsumedCapacity: "TOTAL" }));
  const upstream = request(
    {
      host: "127.0.0.1",
      port: upstreamPort,
      method: incoming.method,
      path: incoming.url,
      headers: { ...incoming.headers, "content-length": String(body.length) },
    },
    async (response) => {
      const parts: Buffer[] = [];
      for await (const part of response) parts.push(part as Buffer);
      const text = Buffer.concat(parts);
      recorded.capacity.push({
        operation,
        table,
        units: capacityOf(text.toString("utf8")),
        input: JSON.stringify(input),
      });
      const headers = { ...response.headers, "content-length": String(text.length) };
      outgoing.writeHead(response.statusCode ?? 500, headers);
      outgoing.end(text);
    },
  );
  upstream.on("error", () => incoming.socket.destroy());
  upstream.end(body);
}

/**
 * An HTTP proxy in front of DynamoDB Local that can hang, throttle or reset on demand, so tests
 * can put the functions through the faults of a real DynamoDB. Requests pass through untouched
 * in "pass" mode; an unreachable upstream resets the connection. It also records each request's
 * operation (X-Amz-Target): the round trips a bundled function really makes, whatever SDK copy
 * it carries (bench/run.ts). With `measureCapacity`, it asks DynamoDB for the capacity each
 * request consumes (ReturnConsumedCapacity: TOTAL, added to the request) and records it.
 */
export async function startDynamoProxy(
  upstreamPort: number,
  options: { measureCapacity?: boolean } = {},
) {
  let mode: ProxyMode = "pass";
  const recorded: Recorded = { operations: [], capacity: [], requests: [] };
  /** Transactions still to cancel for a conflict, as DynamoDB does under contention. */
  let conflictsLeft = 0;
  /** Requests still to pass before the mode switches to "reset" (a crash part way). */
  let passesLeft = Number.POSITIVE_INFINITY;
  const server: Server = createServer((incoming, outgoing) => {
    const operation = operationOf(incoming);
    recorded.operations.push(operation);
    if (operation === "TransactWriteItems" && conflictsLeft > 0) {
      conflictsLeft--;
      cancelForConflict(outgoing);
      return;
    }
    if (mode === "pass" && passesLeft-- <= 0) mode = "reset";
    if (mode === "hang") return;
    if (mode === "reset") {
      incoming.socket.destroy();
      return;
    }
    if (mode === "throttle") {
      throttle(outgoing);
      return;
    }
    if (options.measureCapacity) {
      void forwardMeasured(incoming, outgoing, upstreamPort, recorded);
      return;
    }
    forward(incoming, outgoing, upstreamPort);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    setMode(next: ProxyMode) {
      mode = next;
      passesLeft = Number.POSITIVE_INFINITY;
      conflictsLeft = 0;
    },
    /** Lets `count` more requests through, then resets every connection until setMode. */
    failAfter(count: number) {
      mode = "pass";
      passesLeft = count;
    },
    /** Cancels the next `count` transactions for a conflict, then lets them through. */
    conflictFor(count: number) {
      conflictsLeft = count;
    },
    /** The operations seen since the last reset, in order. */
    operations: () => [...recorded.operations],
    /** Capacity units consumed since the last reset (measureCapacity only), reads and writes. */
    capacityUnits() {
      const sum = (write: boolean) =>
        recorded.capacity
          .filter((c) => WRITES.has(c.operation) === write)
          .reduce((total, c) => total + c.units, 0);
      return { read: sum(false), write: sum(true) };
    },
    /** The same, for the requests to `table` only, and to every other table. */
    capacityUnitsOf(table: string) {
      const sum = (write: boolean, mine: boolean) =>
        recorded.capacity
          .filter((c) => WRITES.has(c.operation) === write && (c.table === table) === mine)
          .reduce((total, c) => total + c.units, 0);
      return {
        table: { read: sum(false, true), write: sum(true, true) },
        others: { read: sum(false, false), write: sum(true, false) },
      };
    },
    /**
     * The read and write units of the requests whose input mentions `text` (a user's id: their
     * key, or a key condition's value), to `table` or to any table (measureCapacity only).
     */
    capacityUnitsMentioning(text: string, table?: string) {
      const mine = recorded.capacity.filter(
        (c) => c.input.includes(text) && (table === undefined || c.table === table),
      );
      const sum = (write: boolean) =>
        mine
          .filter((c) => WRITES.has(c.operation) === write)
          .reduce((total, c) => total + c.units, 0);
      return { read: sum(false), write: sum(true) };
    },
    /** The requests since the last reset, as sent (measureCapacity only): replayable. */
    requests: () => [...recorded.requests],
    reset() {
      recorded.operations = [];
      recorded.capacity = [];
      recorded.requests = [];
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
