import type { Caller } from "../auth/verify.ts";
import { getProfile, type Profile } from "../db/profiles.ts";
import { ForbiddenError } from "../errors.ts";
import { Refused } from "../refusals.ts";

export const PLAYLIST_EDITOR = "playlist_editor";

function strings(value: unknown): string[] {
  return Array.isArray(value)
    ? value.filter((item): item is string => typeof item === "string")
    : [];
}

/** The roles stored in app_metadata; anything malformed there counts as no role. */
export function storedRoles(profile: Profile | undefined): string[] {
  return strings(profile?.appMetadata.roles);
}

/** Roles an operator has denied this user (`app_metadata.denied_roles`): never in effect. */
export function deniedRoles(profile: Profile | undefined): ReadonlySet<string> {
  return new Set(strings(profile?.appMetadata.denied_roles));
}

/** The roles in effect: stored, less denied. */
export function rolesOf(profile: Profile | undefined): string[] {
  const denied = deniedRoles(profile);
  return storedRoles(profile).filter((role) => !denied.has(role));
}

/**
 * Editing featured playlists is decided from the roles stored now, not from the token's claim:
 * a role the post-login hook removed, or an operator denied, takes effect at once.
 */
export async function requirePlaylistEditor(caller: Caller): Promise<void> {
  const profile = await getProfile(caller.sub);
  // An editor whose account is being erased adds nothing that would outlive it.
  if (profile?.deleting) throw new Refused("deleting");
  if (!rolesOf(profile).includes(PLAYLIST_EDITOR)) {
    throw new ForbiddenError(
      `Only holders of the ${PLAYLIST_EDITOR} role may change featured playlists`,
      "missing_role",
    );
  }
}
