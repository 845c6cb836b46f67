/**
 * The one Management API call the API makes, `DELETE /api/v2/users/{id}` (audience
 * `${issuer}api/v2/`, scope `delete:users`), which forgets the user.
 */
import { jwtVerify } from "jose";
import type { KoaContextWithOIDC } from "oidc-provider";
import type { Tenant } from "./tenant.ts";

export const MANAGEMENT_USERS = "/api/v2/users/";

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

/**
 * `DELETE /api/v2/users/{id}` with a token of the Management API holding `delete:users`:
 * the user's sessions, grants and tokens go, and what the tenant mirrors of them, so that the
 * login page meets them as a new user. 404 when the tenant knows nothing of them.
 */
export async function deleteUser(tenant: Tenant, ctx: KoaContextWithOIDC): Promise<void> {
  const { issuer, key, managementAudience, accounts, store, management } = tenant;
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
    accounts.forget(userId),
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
