import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export type ProxyMode = "pass" | "hang" | "throttle" | "reset";

/**
 * An HTTP proxy in front of DynamoDB Local that can hang, throttle or reset on demand, so tests
 * can put the functions through the faults of a real DynamoDB. Requests pass through untouched
 * in "pass" mode; an unreachable upstream resets the connection. It also records each request's
 * operation (X-Amz-Target): the round trips a bundled function really makes, whatever SDK copy
 * it carries (bench/run.ts).
 */
export async function startDynamoProxy(upstreamPort: number) {
  let mode: ProxyMode = "pass";
  let operations: string[] = [];
  /** Transactions still to cancel for a conflict, as DynamoDB does under contention. */
  let conflictsLeft = 0;
  /** Requests still to pass before the mode switches to "reset" (a crash part way). */
  let passesLeft = Number.POSITIVE_INFINITY;
  const server: Server = createServer((incoming, outgoing) => {
    const target = String(incoming.headers["x-amz-target"] ?? "?");
    const operation = target.slice(target.indexOf(".") + 1);
    operations.push(operation);
    if (operation === "TransactWriteItems" && conflictsLeft > 0) {
      conflictsLeft--;
      outgoing.writeHead(400, { "content-type": "application/x-amz-json-1.0" });
      outgoing.end(
        JSON.stringify({
          __type: "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
          message:
            "Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict, None]",
          CancellationReasons: [
            { Code: "TransactionConflict", Message: "Transaction is ongoing for the item" },
            { Code: "None" },
          ],
        }),
      );
      return;
    }
    if (mode === "pass" && passesLeft-- <= 0) mode = "reset";
    if (mode === "hang") return;
    if (mode === "reset") {
      incoming.socket.destroy();
      return;
    }
    if (mode === "throttle") {
      outgoing.writeHead(400, { "content-type": "application/x-amz-json-1.0" });
      outgoing.end(
        JSON.stringify({
          __type: "com.amazonaws.dynamodb.v20120810#ThrottlingException",
          message: "Rate of requests exceeds the allowed throughput.",
        }),
      );
      return;
    }
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
    operations: () => [...operations],
    reset() {
      operations = [];
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
