/**
 * The login step of an authorization (oidc-provider's interaction): the login page, where a
 * person types who they are, then the post-login Action, which lets them in or denies them. No
 * consent screen (a first-party app): the grant is given at once.
 */
import type Provider from "oidc-provider";
import type { KoaContextWithOIDC } from "oidc-provider";
import { parseBody, readBody } from "./bodies.ts";
import type { LoginUser } from "./options.ts";
import { IDENTITY_SCOPES, type Tenant } from "./tenant.ts";
import { loginPage } from "./views.ts";

/** Auth0's user ids are `<connection>|<id>`; the local tenant takes any visible text. */
function loginUser(form: Record<string, string>): LoginUser | string {
  const userId = (form.user_id ?? "").trim();
  if (!userId || userId.length > 200 || /[\p{Cc}\s]/u.test(userId))
    return "Type a user id without spaces, such as auth0|alice.";
  const optional = (value: string | undefined) => value?.trim().slice(0, 200) || undefined;
  return { user_id: userId, name: optional(form.name), email: optional(form.email) };
}

/** Lets `accountId` in: grants what it asked for, and sends the browser back to the provider. */
async function finish(
  { audience }: Tenant,
  provider: Provider,
  ctx: KoaContextWithOIDC,
  clientId: string,
  scope: unknown,
  accountId: string,
): Promise<void> {
  const grant = new provider.Grant({ accountId, clientId });
  // The identity scopes asked for are granted; an API permission asked for as a scope is not
  // (RBAC: a user gets the permissions assigned to them, and none are assigned locally).
  const requested = String(scope ?? "")
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
}

/** As Auth0 does: back to the app with error=access_denied and the Action's reason. */
async function refuse(provider: Provider, ctx: KoaContextWithOIDC, reason: string): Promise<void> {
  ctx.redirect(
    await provider.interactionResult(
      ctx.req,
      ctx.res,
      { error: "access_denied", error_description: reason },
      { mergeWithLastSubmission: false },
    ),
  );
  ctx.status = 303;
}

/** `GET` or `POST` of the login page of an interaction. */
export async function interaction(
  tenant: Tenant,
  provider: Provider,
  ctx: KoaContextWithOIDC,
): Promise<void> {
  ctx.set("cache-control", "no-store");
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const { prompt, params, session } = details;
  const letIn = (accountId: string) =>
    finish(tenant, provider, ctx, String(params.client_id), params.scope, accountId);
  if (prompt.name !== "login" && session?.accountId) {
    // A login of a live session (the consent prompt of offline_access): the Action runs, as
    // at every Auth0 login.
    const denied = await tenant.accounts.runLoginAgain(session.accountId);
    if (denied !== undefined) await refuse(provider, ctx, denied);
    else await letIn(session.accountId);
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
  const denied = await tenant.accounts.runLogin(user);
  if (denied !== undefined) await refuse(provider, ctx, denied);
  else await letIn(user.user_id);
}
