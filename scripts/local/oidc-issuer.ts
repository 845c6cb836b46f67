import { randomBytes } from "node:crypto";
import type { IncomingMessage, Server } from "node:http";
import { stringify } from "node:querystring";
import { jwtVerify } from "jose";
import Provider, {
  type Adapter,
  type AdapterPayload,
  type ClientMetadata,
  type Configuration,
  errors,
  type KoaContextWithOIDC,
} from "oidc-provider";
import { PERMISSIONS } from "../../lib/auth/access.ts";
import type { LocalClient, SigningKey } from "./issuer.ts";
import { namesLoopback } from "./loopback.ts";

/**
 * The local Auth0 tenant: oidc-provider (a certified OpenID provider) configured to look like
 * Auth0 to its clients, so that Auth0's own SDKs, the post-login Action and the API work with it
 * unchanged:
 * - Auth0's paths: /authorize, /oauth/token, /.well-known/jwks.json, /v2/logout (with
 *   `returnTo`), /userinfo;
 * - Auth0's `audience` parameter (oidc-provider speaks RFC 8707 `resource`), JSON bodies at the
 *   token endpoint, and a client-credentials request without `scope` getting the client's grant;
 * - access tokens shaped as Auth0's: RS256 JWTs (`typ: JWT`) with `azp`, user tokens with
 *   `permissions` (RBAC on, none assigned: operators use `npm run token`), client-credentials
 *   tokens with `gty: "client-credentials"` and `sub: <client_id>@clients`;
 * - a login page where a person types who they are, after which the post-login Action runs and
 *   its claims go into the ID and access tokens (or it denies the login); no consent screen (a
 *   first-party app);
 * - refresh tokens as Auth0 issues them: for `offline_access`, rotated at each exchange, a reused
 *   one revoking its whole family, with an idle and an absolute lifetime; the Action runs again
 *   at each exchange (`event.transaction.protocol` "oauth2-refresh-token"), so roles are fresh;
 * - a native application (public, PKCE, a custom-scheme callback) beside the single-page app;
 * - the one Management API call the API makes, `DELETE /api/v2/users/{id}` (audience
 *   `${issuer}api/v2/`, scope `delete:users`), which forgets the user.
 */

/** The single-page app of this repository, registered as Auth0 registers an SPA. */
interface LocalApp {
  clientId: string;
  /** Where the app runs: its callback and logout URLs ("Allowed Callback/Logout URLs") and the
   * origins allowed to call /oauth/token ("Allowed Web Origins"). */
  origins: string[];
}

/** The mobile app of the seed, registered as Auth0 registers a Native application. */
interface LocalNativeApp {
  clientId: string;
  /** Its callback and logout URLs, custom schemes such as `com.example.music://callback`. */
  callbacks: string[];
}

/**
 * Auth0's `event.transaction.protocol` of a post-login run: a login through /authorize, or a
 * refresh-token exchange at /oauth/token.
 */
export type LoginProtocol = "oidc-basic-profile" | "oauth2-refresh-token";

/** Who typed themselves in at the login page. */
export interface LoginUser {
  user_id: string;
  name?: string;
  email?: string;
}

/** What the post-login Action set on this login. */
interface LoginClaims {
  accessTokenClaims: Record<string, unknown>;
  idTokenClaims: Record<string, unknown>;
  /** Set when the Action refused the login (api.access.deny), with its reason. */
  denied?: string;
}

export interface IssuerOptions {
  issuer: string;
  key: SigningKey;
  /** The API's identifier (Auth0's "audience"); the only resource server of this tenant. */
  audience: string;
  /** Machine-to-machine applications, each allowed its `scope` on the API. */
  clients?: LocalClient[];
  /**
   * Auth0's Management API, for the one call the API makes (`DELETE /api/v2/users/{id}`): the
   * M2M application allowed `delete:users` on it (audience `${issuer}api/v2/`), and what else
   * the tenant keeps of a user outside this process (the app_metadata mirror), which a deletion
   * forgets; `forget` answers whether it knew the user.
   */
  management?: {
    client: LocalClient;
    forget(userId: string): boolean;
    /** After a deletion answered 204: Auth0 writes its `sdu` log event (the log stream). */
    deleted?(userId: string): void;
  };
  /**
   * When set, the app (and the native app) may log users in; each login and each refresh-token
   * exchange runs `postLogin` (the Action) with its protocol.
   */
  login?: {
    app: LocalApp;
    nativeApp?: LocalNativeApp;
    /** Namespaced claims the Action may set; listed so that ID tokens carry them. */
    customClaims: string[];
    postLogin(user: LoginUser, protocol: LoginProtocol): Promise<LoginClaims>;
  };
  /** Refresh tokens' lifetimes, as Auth0's "Idle" and "Maximum" ones; Auth0's defaults. */
  refreshTokens?: RefreshTokenLifetimes;
}

/** In seconds: unused for `idleSeconds`, or `absoluteSeconds` after the login, a family ends. */
export interface RefreshTokenLifetimes {
  idleSeconds: number;
  absoluteSeconds: number;
}

/** Auth0's defaults for rotating refresh tokens: 15 days idle, 30 days in all. */
export const DEFAULT_REFRESH_TOKEN_LIFETIMES: RefreshTokenLifetimes = {
  idleSeconds: 15 * 86_400,
  absoluteSeconds: 30 * 86_400,
};

/**
 * How long a refresh token issued now lives: the idle lifetime, cut to what is left of the
 * family's absolute one (`ageSeconds` since the login that began it). Each rotation issues a
 * token for this long, so a token unused for the idle lifetime dies, and none outlives the
 * absolute one.
 */
function refreshTokenTtl(lifetimes: RefreshTokenLifetimes, ageSeconds: number): number {
  // At least a second: oidc-provider and the store read 0 as "never expires".
  return Math.max(1, Math.min(lifetimes.idleSeconds, lifetimes.absoluteSeconds - ageSeconds));
}

/** Permissions an operator may be given on the API: the API's own list. */
const API_PERMISSIONS: string[] = Object.values(PERMISSIONS);

const IDENTITY_SCOPES = ["openid", "profile", "email", "offline_access"];
const LOGIN_PATH = "/login/";
const FORM_LIMIT = 10_000;

async function readBody(request: IncomingMessage): Promise<string> {
  let text = "";
  for await (const chunk of request) {
    text += chunk;
    if (text.length > FORM_LIMIT) throw new errors.InvalidRequest("request body too large");
  }
  return text;
}

function parseBody(text: string, json: boolean): Record<string, string> {
  if (!json) return Object.fromEntries(new URLSearchParams(text));
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed))
      return parsed as Record<string, string>;
  } catch {
    // answered below
  }
  throw new errors.InvalidRequest("the request body must be a JSON object");
}

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string,
  );

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:22rem;margin:3rem auto;padding:0 1rem;color:#1b1b1f}
h1{font-size:1.4rem}label{display:block;margin:.8rem 0 .2rem;font-weight:600}
input{width:100%;box-sizing:border-box;padding:.6rem;font-size:1rem;border:1px solid #999;border-radius:6px}
button{margin-top:1.2rem;width:100%;padding:.7rem;font-size:1rem;border:0;border-radius:6px;background:#3b3bb3;color:#fff}
p{color:#555}.error{color:#a40000}</style></head><body>${body}</body></html>`;
}

function loginPage(uid: string, clientName: string, error?: string): string {
  return page(
    "Log in",
    `<h1>Log in to ${escapeHtml(clientName)}</h1>
<p>Local tenant: type who you are. A real Auth0 tenant asks for a password or a social login here.</p>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ""}
<form method="post" action="${LOGIN_PATH}${escapeHtml(uid)}" autocomplete="off">
<label for="user_id">User id</label>
<input id="user_id" name="user_id" required maxlength="200" placeholder="auth0|alice">
<label for="name">Name (optional)</label><input id="name" name="name" maxlength="200">
<label for="email">Email (optional)</label><input id="email" name="email" type="email" maxlength="200">
<button type="submit">Continue</button></form>`,
  );
}

/** Auth0's user ids are `<connection>|<id>`; the local tenant takes any visible text. */
function loginUser(form: Record<string, string>): LoginUser | string {
  const userId = (form.user_id ?? "").trim();
  if (!userId || userId.length > 200 || /[\p{Cc}\s]/u.test(userId))
    return "Type a user id without spaces, such as auth0|alice.";
  const optional = (value: string | undefined) => value?.trim().slice(0, 200) || undefined;
  return { user_id: userId, name: optional(form.name), email: optional(form.email) };
}

/** An entry of the tenant's store: a session, grant, interaction, code or token. */
interface Stored {
  payload: AdapterPayload;
  expiresAt: number | undefined;
}

/**
 * The tenant's store, in memory as oidc-provider's own, but one per tenant and searchable by
 * account: deleting a user (Management API) forgets its sessions, grants and tokens.
 */
function memoryStore() {
  const entries = new Map<string, Stored>();
  const live = (key: string): AdapterPayload | undefined => {
    const entry = entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      entries.delete(key);
      return undefined;
    }
    return entry.payload;
  };
  class MemoryAdapter implements Adapter {
    constructor(readonly model: string) {}
    key = (id: string) => `${this.model}:${id}`;
    async upsert(id: string, payload: AdapterPayload, expiresIn: number) {
      entries.set(this.key(id), {
        payload,
        expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined,
      });
    }
    async find(id: string) {
      return live(this.key(id));
    }
    async findByUid(uid: string) {
      for (const key of entries.keys()) {
        const payload = key.startsWith(`${this.model}:`) ? live(key) : undefined;
        if (payload?.uid === uid) return payload;
      }
      return undefined;
    }
    async findByUserCode() {
      return undefined;
    }
    async consume(id: string) {
      const payload = live(this.key(id));
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string) {
      entries.delete(this.key(id));
    }
    async revokeByGrantId(grantId: string) {
      for (const [key, entry] of entries)
        if (entry.payload.grantId === grantId) entries.delete(key);
    }
  }
  const refreshTokenKey = (id: string) => `RefreshToken:${id}`;
  return {
    MemoryAdapter,
    /**
     * Marks refresh token `id` used, testing and marking with no await between (so of parallel
     * exchanges of one token exactly one gets `true`); `false` when it was already used or gone.
     */
    consumeRefreshToken(id: string): boolean {
      const payload = live(refreshTokenKey(id));
      if (!payload || payload.consumed) return false;
      payload.consumed = Math.floor(Date.now() / 1000);
      return true;
    },
    /** Undoes consumeRefreshToken: an exchange refused for another reason leaves the token usable. */
    restoreRefreshToken(id: string): void {
      const payload = live(refreshTokenKey(id));
      if (payload) delete payload.consumed;
    },
    /** Revokes a refresh token family: its grant and every token issued under it. */
    revokeGrant(grantId: string): void {
      entries.delete(`Grant:${grantId}`);
      for (const [key, entry] of entries)
        if (entry.payload.grantId === grantId) entries.delete(key);
    },
    /** Forgets everything of `accountId`; answers whether there was anything. */
    forgetAccount(accountId: string): boolean {
      let found = false;
      for (const [key, { payload }] of entries) {
        const owner = payload.accountId ?? (payload.session as { accountId?: string })?.accountId;
        if (owner === accountId) {
          entries.delete(key);
          found = true;
        }
      }
      return found;
    },
  };
}

const MANAGEMENT_USERS = "/api/v2/users/";

/** An error of the Management API, in Auth0's shape (the API's own error shape too). */
function managementError(ctx: KoaContextWithOIDC, status: number, message: string, code: string) {
  ctx.status = status;
  ctx.body = {
    statusCode: status,
    error: { 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed" }[
      status
    ],
    message,
    errorCode: code,
  };
}

export async function serveIssuer(port: number, options: IssuerOptions): Promise<Server> {
  const { issuer, key, audience, login, management } = options;
  const clients = [...(options.clients ?? []), ...(management ? [management.client] : [])];
  const managementAudience = `${issuer}api/v2/`;
  const logins = new Map<string, LoginUser & LoginClaims>();
  const app = login?.app;
  const nativeApp = login?.nativeApp;
  const lifetimes = options.refreshTokens ?? DEFAULT_REFRESH_TOKEN_LIFETIMES;
  const store = memoryStore();

  const registered: ClientMetadata[] = [
    ...clients.map(
      (client): ClientMetadata => ({
        client_id: client.clientId,
        client_secret: client.clientSecret,
        client_name: client.clientId,
        grant_types: ["client_credentials"],
        response_types: [],
        redirect_uris: [],
        scope: client.scope,
        token_endpoint_auth_method: "client_secret_post",
      }),
    ),
    ...(app
      ? [
          {
            client_id: app.clientId,
            client_name: "Music (local)",
            application_type: "web",
            token_endpoint_auth_method: "none",
            grant_types: ["authorization_code", "refresh_token"],
            response_types: ["code"] as const,
            redirect_uris: app.origins.map((origin) => `${origin}/`),
            post_logout_redirect_uris: app.origins.map((origin) => `${origin}/`),
          } satisfies ClientMetadata,
        ]
      : []),
    ...(nativeApp
      ? [
          {
            client_id: nativeApp.clientId,
            client_name: "Music (local, native)",
            application_type: "native",
            // A public client: an app on a phone keeps no secret (PKCE is required of it).
            token_endpoint_auth_method: "none",
            grant_types: ["authorization_code", "refresh_token"],
            response_types: ["code"] as const,
            redirect_uris: nativeApp.callbacks,
            post_logout_redirect_uris: nativeApp.callbacks,
          } satisfies ClientMetadata,
        ]
      : []),
  ];
  const configuration: Configuration = {
    adapter: store.MemoryAdapter,
    clients: registered,
    jwks: { keys: [key.privateJwk as never] },
    cookies: { keys: [randomBytes(32).toString("base64url")] },
    routes: {
      authorization: "/authorize",
      token: "/oauth/token",
      jwks: "/.well-known/jwks.json",
      userinfo: "/userinfo",
      end_session: "/oidc/logout",
      revocation: "/oauth/revoke",
    },
    claims: {
      openid: ["sub", ...(login?.customClaims ?? [])],
      profile: ["name", "nickname", "updated_at"],
      email: ["email", "email_verified"],
    },
    // The M2M clients' grants are registered as their `scope`, which must name known scopes.
    scopes: [...IDENTITY_SCOPES, ...API_PERMISSIONS],
    // Auth0 puts the profile into the ID token, which auth0-spa-js reads as the user.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    // Auth0's Refresh Token Rotation: every exchange consumes the token and answers a new one.
    // oidc-provider calls this once per exchange, after it checked the token (a consumed one was
    // already refused there, its family revoked) and before it issues anything: the moment
    // Auth0 runs the post-login Action of a refresh, so the new tokens carry what it sets now.
    rotateRefreshToken: async (ctx) => {
      const token = ctx.oidc.entities.RefreshToken;
      if (!token) return true;
      // Consumed before the Action is awaited: oidc-provider marks it only afterwards, so
      // parallel exchanges of one token would each pass its check and start a chain. A token
      // used meanwhile is reuse, and revokes its family as oidc-provider's own check does.
      if (!store.consumeRefreshToken(token.jti)) {
        if (token.grantId) store.revokeGrant(token.grantId);
        throw new errors.InvalidGrant("refresh token already used");
      }
      const { accountId } = token;
      const { name, email } = logins.get(accountId) ?? {};
      let denied: string | undefined;
      try {
        denied = await runLogin({ user_id: accountId, name, email }, "oauth2-refresh-token");
      } catch (error) {
        store.restoreRefreshToken(token.jti);
        throw error;
      }
      // As Auth0 answers api.access.deny on a refresh: 403, the token left as it was.
      if (denied !== undefined) {
        store.restoreRefreshToken(token.jti);
        throw Object.assign(new errors.AccessDenied(denied), { status: 403, statusCode: 403 });
      }
      return true;
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // An application revokes its own tokens only (Auth0's /oauth/revoke checks the client).
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      // getTokenSilently's hidden iframe (prompt=none) answers by postMessage, as Auth0's does.
      webMessageResponseMode: { enabled: true, ack: "individual-draft-01" },
      rpInitiatedLogout: {
        enabled: true,
        // Auth0's /v2/logout asks nothing: submit the provider's confirmation form at once.
        logoutSource: async (ctx, form) => {
          ctx.body = page(
            "Logging out",
            `${form}<input type="hidden" form="op.logoutForm" name="logout" value="yes">
<script>document.forms[0].submit()</script>`,
          );
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.body = page("Logged out", "<h1>Logged out</h1>");
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => audience,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, indicator) => {
          if (management && indicator === managementAudience) {
            return {
              scope: "delete:users",
              audience: managementAudience,
              accessTokenFormat: "jwt",
              accessTokenTTL: 86_400,
              jwt: { sign: { alg: "RS256" } },
            };
          }
          if (indicator !== audience) throw new errors.InvalidTarget("Service not found");
          return {
            scope: API_PERMISSIONS.join(" "),
            audience,
            accessTokenFormat: "jwt",
            accessTokenTTL: 86_400,
            jwt: { sign: { alg: "RS256" } },
          };
        },
      },
    },
    ttl: {
      AccessToken: 86_400,
      ClientCredentials: 86_400,
      AuthorizationCode: 60,
      IdToken: 36_000,
      Interaction: 3_600,
      Session: 3 * 86_400,
      // The grant is what a refresh token family lives on: it lasts as long as a family may.
      Grant: lifetimes.absoluteSeconds,
      // The family's first token carries its login's time (`iiat`) into every rotation.
      RefreshToken: (_ctx, token) => refreshTokenTtl(lifetimes, token.totalLifetime()),
    },
    interactions: { url: async (_ctx, interaction) => `${LOGIN_PATH}${interaction.uid}` },
    findAccount: async (_ctx, sub) => ({
      accountId: sub,
      claims: async () => {
        const user = logins.get(sub);
        return {
          sub,
          ...(user?.name ? { name: user.name, nickname: user.name } : {}),
          ...(user?.email ? { email: user.email, email_verified: false } : {}),
          ...user?.idTokenClaims,
        };
      },
    }),
    formats: {
      customizers: {
        // Auth0's access token shape (docs/local-stack.md: "The local Auth0 tenant").
        jwt: async (_ctx, token, jwt) => {
          const { payload } = jwt;
          jwt.header = { typ: "JWT" };
          payload.azp = payload.client_id;
          delete payload.client_id;
          if (token.kind === "ClientCredentials") {
            payload.sub = `${payload.azp}@clients`;
            payload.gty = "client-credentials";
          } else {
            Object.assign(payload, logins.get(String(payload.sub))?.accessTokenClaims, {
              permissions: [],
            });
          }
        },
      },
    },
    renderError: async (ctx, out) => {
      ctx.type = "html";
      ctx.body = page(
        "Error",
        `<h1>Error</h1>${Object.entries(out)
          .map(([name, value]) => `<p><b>${escapeHtml(name)}</b>: ${escapeHtml(String(value))}</p>`)
          .join("")}`,
      );
    },
    // The SPA's origins only: a native app sends no Origin, and no other site may read answers.
    clientBasedCORS: (_ctx, origin) => app?.origins.includes(origin) ?? false,
  };

  const provider = new Provider(issuer, configuration);

  /**
   * The post-login step of one login or refresh; its claims go into the tokens this login's code
   * (or this exchange) buys. Answers the reason when the Action denied the login.
   */
  async function runLogin(
    user: LoginUser,
    protocol: LoginProtocol = "oidc-basic-profile",
  ): Promise<string | undefined> {
    if (!login) return undefined;
    const { accessTokenClaims, idTokenClaims, denied } = await login.postLogin(user, protocol);
    if (denied !== undefined) return denied;
    // Only the custom claims this tenant lists reach a token, whatever an Action sets: never
    // `sub`, `permissions`, `gty` or another claim the API reads to decide who may do what.
    const listed = (claims: Record<string, unknown>) =>
      Object.fromEntries(
        Object.entries(claims).filter(([name]) => login.customClaims.includes(name)),
      );
    logins.set(user.user_id, {
      ...user,
      accessTokenClaims: listed(accessTokenClaims),
      idTokenClaims: listed(idTokenClaims),
    });
    return undefined;
  }

  /**
   * `DELETE /api/v2/users/{id}` with a token of the Management API holding `delete:users`:
   * the user's sessions, grants and tokens go, and what the tenant mirrors of them, so that the
   * login page meets them as a new user. 404 when the tenant knows nothing of them.
   */
  async function deleteUser(ctx: KoaContextWithOIDC): Promise<void> {
    if (ctx.method !== "DELETE") {
      managementError(ctx, 405, "Only DELETE is served here", "method_not_allowed");
      return;
    }
    const [scheme, token] = (ctx.get("authorization") ?? "").split(" ");
    let scope = "";
    try {
      if (scheme?.toLowerCase() !== "bearer" || !token) throw new Error("no bearer token");
      const { payload } = await jwtVerify(token, key.publicKey, {
        issuer,
        audience: managementAudience,
        algorithms: ["RS256"],
      });
      scope = typeof payload.scope === "string" ? payload.scope : "";
    } catch {
      managementError(ctx, 401, "Invalid token", "invalid_token");
      return;
    }
    if (!scope.split(" ").includes("delete:users")) {
      managementError(ctx, 403, "Insufficient scope, expected: delete:users", "insufficient_scope");
      return;
    }
    let userId: string;
    try {
      userId = decodeURIComponent(ctx.path.slice(MANAGEMENT_USERS.length));
    } catch {
      managementError(ctx, 404, "The user does not exist.", "inexistent_user");
      return;
    }
    const known = [
      logins.delete(userId),
      store.forgetAccount(userId),
      management?.forget(userId) ?? false,
    ].some(Boolean);
    if (!known) {
      managementError(ctx, 404, "The user does not exist.", "inexistent_user");
      return;
    }
    ctx.status = 204;
    management?.deleted?.(userId);
  }

  // A page that rebinds its own name to 127.0.0.1 gets nothing from the tenant (scripts/local/loopback.ts).
  provider.use(async (ctx, next) => {
    if (!namesLoopback(ctx.get("host"))) {
      ctx.status = 403;
      ctx.body = { message: "Forbidden: this server answers loopback host names only." };
      return;
    }
    await next();
  });

  // Auth0's request shapes, turned into what oidc-provider reads.
  provider.use(async (ctx, next) => {
    if (ctx.path === "/authorize" && ctx.query.audience && !ctx.query.resource) {
      const { audience: requested, ...rest } = ctx.query;
      ctx.querystring = stringify({ ...rest, resource: requested });
    }
    // oidc-provider grants `offline_access` only with prompt=consent (OpenID Connect Core 11);
    // Auth0 grants it to any application allowed refresh tokens. The consent prompt this adds is
    // answered by the login step at once (a first-party app: no consent screen).
    if (ctx.path === "/authorize" && typeof ctx.query.scope === "string") {
      const prompts = String(ctx.query.prompt ?? "")
        .split(" ")
        .filter(Boolean);
      if (ctx.query.scope.split(" ").includes("offline_access") && !prompts.includes("none")) {
        ctx.querystring = stringify({
          ...ctx.query,
          prompt: [...new Set([...prompts, "consent"])].join(" "),
        });
      }
    }
    // Auth0's SDKs post JSON to /oauth/revoke too (Auth0.swift's and Auth0.Android's revoke).
    if (ctx.path === "/oauth/revoke" && ctx.method === "POST") {
      const form = parseBody(
        await readBody(ctx.req),
        ctx.is("application/json") === "application/json",
      );
      ctx.req.headers["content-type"] = "application/x-www-form-urlencoded";
      (ctx.request as { body?: unknown }).body = form;
    }
    if (ctx.path === "/oauth/token" && ctx.method === "POST") {
      const form = parseBody(
        await readBody(ctx.req),
        ctx.is("application/json") === "application/json",
      );
      if (form.audience && !form.resource) form.resource = form.audience;
      delete form.audience;
      if (form.grant_type === "client_credentials" && !form.scope) {
        form.scope = clients.find((c) => c.clientId === form.client_id)?.scope ?? "";
      }
      // Each M2M application is granted one API, as Auth0's client grants say: the management
      // client the Management API only, the others the music API only.
      if (form.grant_type === "client_credentials" && management) {
        const forManagement = form.resource === managementAudience;
        if (forManagement !== (form.client_id === management.client.clientId)) {
          ctx.status = 403;
          ctx.body = {
            error: "access_denied",
            error_description: `Client is not authorized to access "${form.resource ?? audience}".`,
          };
          return;
        }
      }
      ctx.req.headers["content-type"] = "application/x-www-form-urlencoded";
      (ctx.request as { body?: unknown }).body = form;
    }
    if (ctx.path === "/v2/logout" && ctx.method === "GET") {
      const { client_id: clientId, returnTo } = ctx.query;
      ctx.redirect(
        `/oidc/logout?${stringify({
          ...(clientId ? { client_id: clientId } : {}),
          ...(returnTo ? { post_logout_redirect_uri: returnTo } : {}),
        })}`,
      );
      return;
    }
    if (ctx.path === "/authorize" && login) {
      await next();
      // A login without the login page (the session is alive: SSO, or auth0-spa-js's silent
      // prompt=none renewal): Auth0 runs the Action on these too. The code is exchanged after
      // this response, so the tokens carry what the Action sets now.
      const accountId = ctx.oidc?.session?.accountId;
      const code = ctx.oidc?.entities?.AuthorizationCode;
      if (accountId && code) {
        const { name, email } = logins.get(accountId) ?? {};
        // Denied: the code this response carries buys nothing.
        if ((await runLogin({ user_id: accountId, name, email })) !== undefined) {
          await code.destroy();
        }
      }
      return;
    }
    if (ctx.path.startsWith(MANAGEMENT_USERS) && management) {
      await deleteUser(ctx as unknown as KoaContextWithOIDC);
      return;
    }
    if (ctx.path.startsWith(LOGIN_PATH) && login) {
      await interaction(ctx as unknown as KoaContextWithOIDC);
      return;
    }
    await next();
  });

  async function interaction(ctx: KoaContextWithOIDC): Promise<void> {
    ctx.set("cache-control", "no-store");
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const { prompt, params, session } = details;
    const clientId = String(params.client_id);
    const finish = async (accountId: string) => {
      const grant = new provider.Grant({ accountId, clientId });
      // The identity scopes asked for are granted; an API permission asked for as a scope is not
      // (RBAC: a user gets the permissions assigned to them, and none are assigned locally).
      const requested = String(params.scope ?? "")
        .split(" ")
        .filter(Boolean);
      grant.addOIDCScope(requested.filter((scope) => IDENTITY_SCOPES.includes(scope)).join(" "));
      const refused = requested.filter((scope) => !IDENTITY_SCOPES.includes(scope)).join(" ");
      if (refused) {
        grant.rejectOIDCScope(refused);
        grant.rejectResourceScope(audience, refused);
      }
      const grantId = await grant.save();
      const result = { login: { accountId }, consent: { grantId } };
      ctx.redirect(
        await provider.interactionResult(ctx.req, ctx.res, result, {
          mergeWithLastSubmission: false,
        }),
      );
      // After a POST, the browser goes on with a GET.
      ctx.status = 303;
    };
    const refuse = async (reason: string) => {
      // As Auth0 does: back to the app with error=access_denied and the Action's reason.
      ctx.redirect(
        await provider.interactionResult(
          ctx.req,
          ctx.res,
          { error: "access_denied", error_description: reason },
          { mergeWithLastSubmission: false },
        ),
      );
      ctx.status = 303;
    };
    if (prompt.name !== "login" && session?.accountId) {
      // A login of a live session (the consent prompt of offline_access): the Action runs, as
      // at every Auth0 login.
      const { name, email } = logins.get(session.accountId) ?? {};
      const denied = await runLogin({ user_id: session.accountId, name, email });
      if (denied !== undefined) await refuse(denied);
      else await finish(session.accountId);
      return;
    }
    const uid = details.uid;
    if (ctx.method === "GET") {
      ctx.type = "html";
      ctx.body = loginPage(uid, "Music");
      return;
    }
    if (ctx.method !== "POST") ctx.throw(405);
    const user = loginUser(parseBody(await readBody(ctx.req), false));
    if (typeof user === "string") {
      ctx.status = 400;
      ctx.type = "html";
      ctx.body = loginPage(uid, "Music", user);
      return;
    }
    const denied = await runLogin(user);
    if (denied !== undefined) await refuse(denied);
    else await finish(user.user_id);
  }

  return new Promise((resolve, reject) => {
    const server = provider.listen(port, "127.0.0.1", () => resolve(server));
    server.once("error", reject);
  });
}
