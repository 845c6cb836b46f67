/**
 * Auth0's request shapes, turned into what oidc-provider reads: `audience` for `resource`, JSON
 * bodies, Auth0's grants of refresh tokens and of client credentials, /v2/logout; and the
 * tenant's own pages (the login step, the Management API) beside oidc-provider's.
 */
import { stringify } from "node:querystring";
import type Provider from "oidc-provider";
import type { KoaContextWithOIDC } from "oidc-provider";
import { namesLoopback } from "../loopback.ts";
import { parseBody, readBody } from "./bodies.ts";
import { interaction } from "./interactions.ts";
import { deleteUser, MANAGEMENT_USERS } from "./management.ts";
import type { Tenant } from "./tenant.ts";
import { LOGIN_PATH } from "./views.ts";

type Middleware = Parameters<Provider["use"]>[0];
type Context = Parameters<Middleware>[0];

/** A page that rebinds its own name to 127.0.0.1 gets nothing from the tenant (scripts/local/loopback.ts). */
export const loopbackOnly: Middleware = async (ctx, next) => {
  if (!namesLoopback(ctx.get("host"))) {
    ctx.status = 403;
    ctx.body = { message: "Forbidden: this server answers loopback host names only." };
    return;
  }
  await next();
};

/** /authorize's query: Auth0's `audience`, and Auth0's grant of `offline_access`. */
function authorizeQuery(ctx: Context): void {
  if (ctx.query.audience && !ctx.query.resource) {
    const { audience: requested, ...rest } = ctx.query;
    ctx.querystring = stringify({ ...rest, resource: requested });
  }
  // oidc-provider grants `offline_access` only with prompt=consent (OpenID Connect Core 11);
  // Auth0 grants it to any application allowed refresh tokens. The consent prompt this adds is
  // answered by the login step at once (a first-party app: no consent screen).
  if (typeof ctx.query.scope === "string") {
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
}

/** A form or JSON body, handed to oidc-provider as the form it reads. */
async function readForm(ctx: Context): Promise<Record<string, string>> {
  return parseBody(await readBody(ctx.req), ctx.is("application/json") === "application/json");
}

function passForm(ctx: Context, form: Record<string, string>): void {
  ctx.req.headers["content-type"] = "application/x-www-form-urlencoded";
  (ctx.request as { body?: unknown }).body = form;
}

/**
 * /oauth/token's form, with Auth0's `audience` and its client grants; false when it answered
 * itself (an M2M application asking for an API it was not granted).
 */
async function tokenRequest(
  { allClients, audience, management, managementAudience }: Tenant,
  ctx: Context,
): Promise<boolean> {
  const form = await readForm(ctx);
  if (form.audience && !form.resource) form.resource = form.audience;
  delete form.audience;
  if (form.grant_type === "client_credentials" && !form.scope) {
    form.scope = allClients.find((c) => c.clientId === form.client_id)?.scope ?? "";
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
      return false;
    }
  }
  passForm(ctx, form);
  return true;
}

/** Auth0's /v2/logout (`client_id`, `returnTo`), as oidc-provider's end-session request. */
function logout(ctx: Context): void {
  const { client_id: clientId, returnTo } = ctx.query;
  ctx.redirect(
    `/oidc/logout?${stringify({
      ...(clientId ? { client_id: clientId } : {}),
      ...(returnTo ? { post_logout_redirect_uri: returnTo } : {}),
    })}`,
  );
}

/**
 * A login without the login page (the session is alive: SSO, or auth0-spa-js's silent
 * prompt=none renewal): Auth0 runs the Action on these too. The code is exchanged after this
 * response, so the tokens carry what the Action sets now.
 */
async function silentLogin({ accounts }: Tenant, ctx: Context): Promise<void> {
  const { oidc } = ctx as unknown as Partial<KoaContextWithOIDC>;
  const accountId = oidc?.session?.accountId;
  const code = oidc?.entities?.AuthorizationCode;
  if (accountId && code) {
    // Denied: the code this response carries buys nothing.
    if ((await accounts.runLoginAgain(accountId)) !== undefined) {
      await code.destroy();
    }
  }
}

export function auth0Requests(tenant: Tenant, provider: Provider): Middleware {
  const { login, management } = tenant;
  return async (ctx, next) => {
    if (ctx.path === "/authorize") authorizeQuery(ctx);
    // Auth0's SDKs post JSON to /oauth/revoke too (Auth0.swift's and Auth0.Android's revoke).
    if (ctx.path === "/oauth/revoke" && ctx.method === "POST") passForm(ctx, await readForm(ctx));
    if (ctx.path === "/oauth/token" && ctx.method === "POST") {
      if (!(await tokenRequest(tenant, ctx))) return;
    }
    if (ctx.path === "/v2/logout" && ctx.method === "GET") {
      logout(ctx);
      return;
    }
    if (ctx.path === "/authorize" && login) {
      await next();
      await silentLogin(tenant, ctx);
      return;
    }
    if (ctx.path.startsWith(MANAGEMENT_USERS) && management) {
      await deleteUser(tenant, ctx as unknown as KoaContextWithOIDC);
      return;
    }
    if (ctx.path.startsWith(LOGIN_PATH) && login) {
      await interaction(tenant, provider, ctx as unknown as KoaContextWithOIDC);
      return;
    }
    await next();
  };
}
