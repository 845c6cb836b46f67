/**
 * Auth0 Action, trigger "Login / Post Login", runtime Node 22.
 *
 * Calls this API's post-login hook (POST /hooks/post-login) with a machine-to-machine token,
 * then copies the claims it answers (the user's roles, under CLAIMS_NAMESPACE) into the access
 * and ID tokens, and mirrors the stored roles into the Auth0 user's app_metadata.roles so that
 * Auth0's dashboard shows what the API grants. The hook keeps the profile in DynamoDB as the
 * source of truth: default display name, the playlist_editor role earned from plays.
 *
 * Secrets (Actions > this Action > Secrets):
 *   HOOK_URL       https://<api-id>.execute-api.<region>.amazonaws.com/hooks/post-login
 *   AUTH0_DOMAIN   your tenant's domain, e.g. your-tenant.us.auth0.com
 *   CLIENT_ID      the M2M application allowed the scope run:post_login on the API
 *   CLIENT_SECRET  its secret
 *   AUDIENCE       the API identifier, e.g. https://api.music.example.com
 *   TOKEN_URL      optional: the token endpoint, when not https://AUTH0_DOMAIN/oauth/token
 *   CLAIMS_NAMESPACE optional: the API's CLAIMS_NAMESPACE, when not https://music.example.com/
 *   TRIM_AUTH0_METADATA optional: "true" removes from the Auth0 user the user_metadata keys the
 *                  hook moved into the API's store (Auth0 caps a profile at 10 KB)
 *
 * Moving in: the hook takes the event's user_metadata (and app_metadata's plan and
 * denied_roles) for a user the API has never seen, once, and answers which keys it moved; the
 * store is the source of truth from then on, so with TRIM_AUTH0_METADATA the moved keys leave
 * Auth0 (api.user.setUserMetadata(key, null)).
 *
 * Auth0 runs it at every login and at every refresh-token exchange (event.transaction.protocol
 * "oauth2-refresh-token"), so renewed tokens carry the roles stored now. It uses only what Auth0
 * allows on both: custom claims, api.user.setAppMetadata, api.cache and api.access.deny (a
 * refresh is then answered 403); never api.redirect or an MFA challenge, which a refresh, with no
 * person at a browser, cannot show.
 *
 * Failure policy: fail open. A 429 or 5xx is tried once more (after Retry-After, at most a
 * second) when the Action's time allows it; if the hook is still down or slow, the login goes on
 * without the roles claim (and moves nothing: the next login moves the metadata in). That is safe: the API decides who edits featured playlists from the stored roles, not
 * from the claim, so a missing claim only hides the EDITOR welcome until the next login. One
 * answer denies the login (api.access.deny): 409 account_being_deleted, while the user's account
 * deletion is under way (it would otherwise bring the account back).
 */

const TOKEN_CACHE_KEY = "music-api-m2m-token";
// Each call gets 4 s: the token and two hook calls (with a second between) stay well inside the
// 20 s an Action may run.
const TIMEOUT_MS = 4000;
// A retry starts only if it can end by then (from the Action's start).
const BUDGET_MS = 15_000;
const MAX_RETRY_DELAY_MS = 1000;
// Renew a cached token this long before it expires.
const EXPIRY_MARGIN_MS = 60_000;

async function postJson(url, body, headers = {}) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const text = await response.text();
  let parsed;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // A gateway's HTML error page: its status says enough.
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

/** A 429 or a 5xx: the hook may answer the same request a moment later. */
const retryable = (status) => status === 429 || status >= 500;

/** How long to wait before the retry: Retry-After, at most a second. */
function retryDelay(headers) {
  const seconds = Number(headers.get("retry-after"));
  return Number.isFinite(seconds) && seconds > 0
    ? Math.min(seconds * 1000, MAX_RETRY_DELAY_MS)
    : 200;
}

/** The hook's answer; a 429 or 5xx tried once more when time allows. */
async function callHook(event, api, user, startedAt) {
  const send = async () =>
    postJson(
      event.secrets.HOOK_URL,
      { user },
      { authorization: `Bearer ${await hookToken(event, api)}` },
    );
  // No answer in time is not retried: the hook may be slow rather than down.
  const answer = await send();
  if (answer.status === 401) api.cache.delete(TOKEN_CACHE_KEY);
  if (!retryable(answer.status)) return answer;
  const delay = retryDelay(answer.headers);
  if (Date.now() - startedAt + delay + TIMEOUT_MS > BUDGET_MS) return answer;
  await new Promise((resolve) => setTimeout(resolve, delay));
  return send();
}

/** What the hook needs of the user: who, and the metadata it moves in for a new user. */
function hookUser(user) {
  const app = user.app_metadata ?? {};
  const moved = {};
  for (const key of ["plan", "denied_roles"]) if (Object.hasOwn(app, key)) moved[key] = app[key];
  return {
    user_id: user.user_id,
    email: user.email,
    name: user.name,
    user_metadata: user.user_metadata ?? {},
    app_metadata: moved,
  };
}

/** A client-credentials token for the hook, cached across logins with api.cache. */
async function hookToken(event, api) {
  const cached = api.cache.get(TOKEN_CACHE_KEY);
  if (cached?.value) return cached.value;
  const { AUTH0_DOMAIN, TOKEN_URL, CLIENT_ID, CLIENT_SECRET, AUDIENCE } = event.secrets;
  const { status, body } = await postJson(TOKEN_URL || `https://${AUTH0_DOMAIN}/oauth/token`, {
    grant_type: "client_credentials",
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    audience: AUDIENCE,
  });
  if (status !== 200 || !body?.access_token) throw new Error(`token endpoint answered ${status}`);
  const expiresAt = Date.now() + body.expires_in * 1000 - EXPIRY_MARGIN_MS;
  api.cache.set(TOKEN_CACHE_KEY, body.access_token, { expires_at: expiresAt });
  return body.access_token;
}

const DEFAULT_CLAIMS_NAMESPACE = "https://music.example.com/";

/**
 * The one claim the API defines, `${CLAIMS_NAMESPACE}roles`, when the hook answered it as a list
 * of strings. Nothing else the hook answers becomes a claim: not `sub`, `permissions` or `gty`,
 * which the API reads from tokens to decide who may do what.
 */
function rolesClaim(event, claims) {
  const name = `${event.secrets.CLAIMS_NAMESPACE || DEFAULT_CLAIMS_NAMESPACE}roles`;
  const roles = Object.hasOwn(claims, name) ? claims[name] : undefined;
  if (!Array.isArray(roles) || !roles.every((role) => typeof role === "string")) return undefined;
  return { name, roles };
}

/** The same roles, in any order. */
function sameRoles(a, b) {
  return a.length === b.length && [...a].sort().join("\n") === [...b].sort().join("\n");
}

exports.onExecutePostLogin = async (event, api) => {
  const startedAt = Date.now();
  try {
    const { status, body } = await callHook(event, api, hookUser(event.user), startedAt);
    // The user's account is being deleted: a login now would bring it back. Refused, not
    // failed open: the API said so, it is not down.
    if (status === 409 && body?.errorCode === "account_being_deleted") {
      api.access.deny("This account is being deleted.");
      return;
    }
    if (status !== 200 || !body?.claims) {
      console.log(`post-login hook answered ${status}; login continues without role claims`);
      return;
    }
    const claim = rolesClaim(event, body.claims);
    if (claim) {
      api.accessToken.setCustomClaim(claim.name, claim.roles);
      api.idToken.setCustomClaim(claim.name, claim.roles);
    }
    // A mirror, written only when it changes (each write is a user update in Auth0).
    const stored = Array.isArray(body.app_metadata?.roles) ? body.app_metadata.roles : [];
    const mirrored = event.user.app_metadata?.roles;
    if (!sameRoles(stored, Array.isArray(mirrored) ? mirrored : [])) {
      api.user.setAppMetadata("roles", stored);
    }
    // The keys the store holds now leave Auth0, when the tenant chose to trim.
    const moved = Array.isArray(body.migration?.moved) ? body.migration.moved : [];
    if (event.secrets.TRIM_AUTH0_METADATA === "true") {
      for (const key of moved) {
        if (typeof key === "string" && Object.hasOwn(event.user.user_metadata ?? {}, key)) {
          api.user.setUserMetadata(key, null);
        }
      }
    }
  } catch (error) {
    // Never the token or the user's data in the log: the error's kind is enough.
    console.log(
      `post-login hook unavailable (${error?.name ?? "Error"}); login continues without role claims`,
    );
  }
};
