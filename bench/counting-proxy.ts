import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * Counts DynamoDB requests on the wire, by their X-Amz-Target (GetItem, TransactWriteItems...):
 * the round trips a bundled function really makes, whatever SDK copy it carries.
 */
export async function startCountingProxy(upstreamPort: number) {
  let seen: string[] = [];
  const server = createServer((incoming, outgoing) => {
    const target = String(incoming.headers["x-amz-target"] ?? "?");
    seen.push(target.slice(target.indexOf(".") + 1));
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
    reset() {
      seen = [];
    },
    operations: () => [...seen],
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
