import type { Caller } from "../auth/verify.ts";
import { ForbiddenError } from "../http/errors.ts";

/** Operator scopes, as Auth0's Management API names them. */
export const SCOPES = {
  readUsers: "read:users",
  updateUsers: "update:users",
  updateAppMetadata: "update:users_app_metadata",
  deleteUsers: "delete:users",
  runPostLogin: "run:post_login",
} as const;

export function isSelf(caller: Caller, userId: string): boolean {
  return caller.sub === userId;
}

/** A user reaches their own profile; anyone else's needs the operator scope. */
export function requireSelfOrScope(caller: Caller, userId: string, scope: string): void {
  if (!isSelf(caller, userId) && !caller.scopes.has(scope)) {
    throw new ForbiddenError(`Only the user themself or a token with scope ${scope} may do this`);
  }
}

export function requireScope(caller: Caller, scope: string): void {
  if (!caller.scopes.has(scope)) throw new ForbiddenError(`This needs a token with scope ${scope}`);
}
