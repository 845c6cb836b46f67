/**
 * What keeps a web page away from the local stack's ports. A page on any site can make the
 * browser send requests to 127.0.0.1, either directly (its Origin says where it came from) or
 * under its own host name after rebinding that name's DNS record to 127.0.0.1 (its Host says
 * so). Every local server listens on loopback and answers only loopback host names; the ones no
 * browser has business with (DynamoDB) also refuse any request that carries an Origin.
 * serverless-offline's ports get the same checks from patches/serverless-offline+14.8.2.patch.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

const LOOPBACK_NAMES = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Whether a Host header ("127.0.0.1:3000", "[::1]:8000", "localhost") names this machine. */
export function namesLoopback(hostHeader: string | undefined): boolean {
  const value = (hostHeader ?? "").toLowerCase();
  const name = value.startsWith("[") ? value.slice(0, value.indexOf("]") + 1) : value.split(":")[0];
  return LOOPBACK_NAMES.has(name ?? "");
}

/**
 * Answers 403 (and true) for a request a local server must not serve: another host name, or an
 * Origin where `refuseOrigin` (no browser calls that server).
 */
export function refuseForeignRequest(
  request: IncomingMessage,
  response: ServerResponse,
  { refuseOrigin = false } = {},
): boolean {
  const reason = !namesLoopback(request.headers.host)
    ? "this server answers loopback host names only"
    : refuseOrigin && request.headers.origin !== undefined
      ? "browser requests are not accepted here"
      : undefined;
  if (!reason) return false;
  response.writeHead(403, { "content-type": "application/json" });
  response.end(JSON.stringify({ message: `Forbidden: ${reason}.` }));
  return true;
}
