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
 *
 * Auth0 runs it at every login and at every refresh-token exchange (event.transaction.protocol
 * "oauth2-refresh-token"), so renewed tokens carry the roles stored now. It uses only what Auth0
 * allows on both: custom claims, api.user.setAppMetadata, api.cache and api.access.deny (a
 * refresh is then answered 403); never api.redirect or an MFA challenge, which a refresh, with no
 * person at a browser, cannot show.
 *
 * Failure policy: fail open. If the hook is down or slow, the login goes on without the roles
 * claim. That is safe: the API decides who edits featured playlists from the stored roles, not
 * from the claim, so a missing claim only hides the EDITOR welcome until the next login. One
 * answer denies the login (api.access.deny): 409 account_being_deleted, while the user's account
 * deletion is under way (it would otherwise bring the account back).
 */

const TOKEN_CACHE_KEY = "music-api-m2m-token";
// Each call gets 4 s: two calls stay well inside the 20 s an Action may run.
const TIMEOUT_MS = 4000;
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
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
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
  const user = { user_id: event.user.user_id, email: event.user.email, name: event.user.name };
  try {
    const token = await hookToken(event, api);
    const { status, body } = await postJson(
      event.secrets.HOOK_URL,
      { user },
      { authorization: `Bearer ${token}` },
    );
    if (status === 401) api.cache.delete(TOKEN_CACHE_KEY);
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
  } catch (error) {
    // Never the token or the user's data in the log: the error's kind is enough.
    console.log(
      `post-login hook unavailable (${error?.name ?? "Error"}); login continues without role claims`,
    );
  }
};
