/**
 * The one call this API makes to Auth0's Management API: deleting a user whose account was
 * erased (CONTRACT: Data rights). A client-credentials token of AUTH0_MGMT_CLIENT_ID for the
 * audience `${AUTH_ISSUER}api/v2/` (kept per container until shortly before it expires), then
 * `DELETE ${AUTH_ISSUER}api/v2/users/{id}`. Auth0 answers 204 when it deleted the user and 404
 * when there is none: both mean done. Anything else is retried a bounded number of times in
 * this request; then the request answers 503 and the caller's next DELETE tries again.
 */
import { config } from "../config.ts";
import { ServiceUnavailableError } from "../errors.ts";
import { log } from "../log.ts";
import { metric } from "../metrics.ts";
import { AGAIN, RetriesExhausted, type RetryPolicy, retry } from "../retry.ts";
import { secretReader } from "../secrets/parameter.ts";

/**
 * Three tries of at most 2 × 2 s (token, then the call), with up to 1 s between them: about
 * 13 s at worst, inside the users function's 29 s with the erase before it.
 */
const MANAGEMENT_API: RetryPolicy = { attempts: 3, baseMs: 250, capMs: 1_000 };
const REQUEST_TIMEOUT_MS = 2_000;
/** A token is renewed this long before it expires. */
const EXPIRY_MARGIN_MS = 60_000;
/** What a 503 asks the client to wait before sending the DELETE again. */
const RETRY_AFTER_SECONDS = 5;

const clientSecret = secretReader({
  id: "auth0-mgmt-client-secret",
  what: "Auth0 Management API client secret",
  cause: "management_api_secret",
  minLength: 1,
  source: () => {
    const settings = config().managementApi;
    if (!settings) throw new Error("the Management API is not configured");
    return settings.secret;
  },
});

let token: { value: string; expiresAt: number } | undefined;

/** `${AUTH_ISSUER}` with its trailing slash, as Auth0 writes it. */
function tenant(): string {
  const issuer = config().authIssuer;
  return issuer.endsWith("/") ? issuer : `${issuer}/`;
}

/** Why one try did not finish: retried (`AGAIN`) unless it cannot get better by itself. */
class Refusal extends Error {}

async function managementToken(clientId: string): Promise<string | typeof AGAIN> {
  if (token && token.expiresAt > Date.now()) return token.value;
  const response = await fetch(`${tenant()}oauth/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      grant_type: "client_credentials",
      client_id: clientId,
      client_secret: await clientSecret(),
      audience: `${tenant()}api/v2/`,
    }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const body = (await response.json().catch(() => undefined)) as
    | { access_token?: unknown; expires_in?: unknown }
    | undefined;
  if (response.status === 200 && typeof body?.access_token === "string") {
    const lifetime = typeof body.expires_in === "number" ? body.expires_in * 1000 : 0;
    token = { value: body.access_token, expiresAt: Date.now() + lifetime - EXPIRY_MARGIN_MS };
    return body.access_token;
  }
  log.warn("Management API token refused", { status: response.status });
  // A wrong client id or secret, or a missing grant, does not heal by retrying.
  if (response.status === 401 || response.status === 403) throw new Refusal();
  return AGAIN;
}

/**
 * Deletes the Auth0 user `userId`: "deleted" (204), "absent" (404: nothing to delete), or
 * "not_configured" (no AUTH0_MGMT_CLIENT_ID: nothing is sent). Throws a 503 with Retry-After
 * when the Management API did not answer either within the bounded retries.
 */
export async function deleteAuth0User(
  userId: string,
): Promise<"deleted" | "absent" | "not_configured"> {
  const settings = config().managementApi;
  if (!settings) return "not_configured";
  try {
    return await retry(MANAGEMENT_API, async () => {
      try {
        const bearer = await managementToken(settings.clientId);
        if (bearer === AGAIN) return AGAIN;
        const response = await fetch(`${tenant()}api/v2/users/${encodeURIComponent(userId)}`, {
          method: "DELETE",
          headers: { authorization: `Bearer ${bearer}` },
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        await response.arrayBuffer();
        if (response.status === 204 || response.status === 200) return "deleted" as const;
        if (response.status === 404) return "absent" as const;
        log.warn("Management API refused the user's deletion", { status: response.status });
        // An expired or revoked token: the next try fetches another.
        if (response.status === 401) token = undefined;
        if (response.status === 403) throw new Refusal();
        return AGAIN;
      } catch (error) {
        if (error instanceof Refusal || error instanceof ServiceUnavailableError) throw error;
        // Refused connections, timeouts, a body that is no JSON: try again.
        log.warn("Management API unreachable", {
          error: error instanceof Error ? error.name : "unknown",
        });
        return AGAIN;
      }
    });
  } catch (error) {
    if (!(error instanceof RetriesExhausted) && !(error instanceof Refusal)) throw error;
    metric("ManagementApiFailures");
    throw new ServiceUnavailableError(RETRY_AFTER_SECONDS);
  }
}
