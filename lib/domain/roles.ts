import type { Caller } from "../auth/verify.ts";
import { getProfile, type Profile } from "../db/profiles.ts";
import { ForbiddenError } from "../http/errors.ts";

export const PLAYLIST_EDITOR = "playlist_editor";

/** The roles stored in app_metadata; anything malformed there counts as no role. */
export function rolesOf(profile: Profile | undefined): string[] {
  const roles = profile?.appMetadata.roles;
  return Array.isArray(roles)
    ? roles.filter((role): role is string => typeof role === "string")
    : [];
}

/**
 * Editing featured playlists is decided from the roles stored now, not from the token's claim:
 * a role the post-login hook removed takes effect without waiting for the token to expire.
 */
export async function requirePlaylistEditor(caller: Caller): Promise<void> {
  if (!rolesOf(await getProfile(caller.sub)).includes(PLAYLIST_EDITOR)) {
    throw new ForbiddenError(
      `Only holders of the ${PLAYLIST_EDITOR} role may change featured playlists`,
      "missing_role",
    );
  }
}
