/**
 * Caller policy: what a verified token allows (operator permissions, a person or a machine),
 * decided from the token alone. Rules that need stored data (roles) live in lib/domain.
 */

import { ForbiddenError } from "../errors.ts";
import type { Caller } from "./verify.ts";

/** Operator permissions, as Auth0's Management API names them. */
export const PERMISSIONS = {
  readUsers: "read:users",
  updateUsers: "update:users",
  updateAppMetadata: "update:users_app_metadata",
  deleteUsers: "delete:users",
  runPostLogin: "run:post_login",
  /** Change, delete or restore any featured playlist, whoever created it. */
  updateFeatured: "update:featured",
} as const;

/** A person acting on their own data; a machine is never anyone's "self". */
export function isSelf(caller: Caller, userId: string): boolean {
  return !caller.machine && caller.sub === userId;
}

/** A user reaches their own profile; anyone else's needs the operator permission. */
export function requireSelfOrPermission(caller: Caller, userId: string, permission: string): void {
  if (!isSelf(caller, userId) && !caller.permissions.has(permission)) {
    throw new ForbiddenError(
      `Only the user themself or an operator with permission ${permission} may do this`,
    );
  }
}

export function requirePermission(caller: Caller, permission: string): void {
  if (!caller.permissions.has(permission)) {
    throw new ForbiddenError(`This needs an operator token with permission ${permission}`);
  }
}

/** The hook is called by the Auth0 Action's M2M application only, never with a user's token. */
export function requireMachinePermission(caller: Caller, permission: string): void {
  if (!caller.machine) {
    throw new ForbiddenError(`This needs a client-credentials token with ${permission}`);
  }
  requirePermission(caller, permission);
}

/** The user routes: songs, playlists and the like belong to people; a machine has none. */
export function requirePerson(caller: Caller): void {
  if (caller.machine) {
    throw new ForbiddenError(
      "This route serves a signed-in user; a client-credentials token has no user data",
      "user_token_required",
    );
  }
}
