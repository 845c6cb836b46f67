import { deleteTombstone } from "../db/counters.ts";
import {
  getProfileAndCounters,
  type MetadataPair,
  modifyMetadata,
  type Profile,
} from "../db/profiles.ts";
import { ConflictError } from "../errors.ts";
import { audit } from "../log.ts";
import { metric } from "../metrics.ts";
import { MAX_METADATA_BYTES, type Metadata, metadataBytes } from "./metadata.ts";
import { DEFAULT_DISPLAY_NAME } from "./profile.ts";
import { deniedRoles, PLAYLIST_EDITOR, rolesOf, storedRoles } from "./roles.ts";

/**
 * The seed's login rules, fixed: a default display name that never overwrites a chosen one, and
 * the playlist_editor role granted or revoked from the stored play total while every other role
 * is kept; a role in `denied_roles` is never granted and is removed. Pure: returns the metadata
 * to store, or undefined when nothing changes. It never fails on what the user stored: the
 * default name is skipped when it would not fit the user's metadata limit (GET /displayName
 * answers it anyway), and role changes apply whatever the sizes.
 */
export function loginChanges(
  profile: Profile,
  totalPlays: number,
  minPlays: number,
): MetadataPair | undefined {
  let userMetadata = profile.userMetadata;
  let appMetadata = profile.appMetadata;
  if (typeof userMetadata.displayName !== "string") {
    const named = { ...userMetadata, displayName: DEFAULT_DISPLAY_NAME };
    if (metadataBytes(named) <= MAX_METADATA_BYTES) userMetadata = named;
  }
  const stored = storedRoles(profile);
  const denied = deniedRoles(profile);
  const earned = totalPlays >= minPlays && !denied.has(PLAYLIST_EDITOR);
  const roles = stored.filter((role) => !denied.has(role) && (role !== PLAYLIST_EDITOR || earned));
  if (earned && !roles.includes(PLAYLIST_EDITOR)) roles.push(PLAYLIST_EDITOR);
  if (roles.length !== stored.length || roles.some((role, i) => role !== stored[i])) {
    appMetadata = { ...appMetadata, roles };
  }
  if (userMetadata === profile.userMetadata && appMetadata === profile.appMetadata)
    return undefined;
  return { userMetadata, appMetadata };
}

/**
 * The profile with the roles an operator denied an erased account of this user id (its
 * tombstone) denied again; the same profile when it already denies them all.
 */
function withInheritedDenials(profile: Profile, inherited: readonly string[]): Profile {
  const denied = deniedRoles(profile);
  const missing = inherited.filter((role) => !denied.has(role));
  if (missing.length === 0) return profile;
  return {
    ...profile,
    appMetadata: { ...profile.appMetadata, denied_roles: [...denied, ...missing] },
  };
}

export interface PostLoginResult {
  user_metadata: Metadata;
  app_metadata: Metadata;
  claims: Record<string, unknown>;
}

export function loginResult(profile: Profile, claimsNamespace: string): PostLoginResult {
  return {
    user_metadata: profile.userMetadata,
    app_metadata: profile.appMetadata,
    claims: { [`${claimsNamespace}roles`]: rolesOf(profile) },
  };
}

/**
 * One consistent read of the profile and the play total, and at most one conditional write,
 * only when something changed. Every role granted or removed is audited.
 */
export async function runPostLogin(
  userId: string,
  minPlays: number,
  claimsNamespace: string,
  audited: {
    actor: string;
    correlationId: string;
    clientCorrelationId?: string | undefined;
    requestId?: string;
  },
): Promise<PostLoginResult> {
  metric("Logins");
  const {
    profile: initial,
    counters,
    inheritedDeniedRoles,
    beingDeleted,
  } = await getProfileAndCounters(userId);
  // A login now would recreate the profile the deletion is erasing (CONTRACT: Data rights).
  if (beingDeleted) {
    throw new ConflictError(
      "This account is being deleted: the login is refused until the deletion is done",
      "account_being_deleted",
    );
  }
  let before: Profile | undefined;
  const { profile, changed } = await modifyMetadata(
    userId,
    (current) => {
      before = current;
      const seeded = withInheritedDenials(current, inheritedDeniedRoles);
      const changes = loginChanges(seeded, counters.totalPlays, minPlays);
      if (changes || seeded === current) return changes;
      return { userMetadata: seeded.userMetadata, appMetadata: seeded.appMetadata };
    },
    // The tombstone's denials are copied into the profile: it goes in the same write, so that
    // an operator who lifts a denial later is not overruled by it at the next login.
    {
      initial,
      together: inheritedDeniedRoles.length ? { tombstone: deleteTombstone(userId) } : {},
    },
  );
  if (changed && before) {
    const was = new Set(storedRoles(before));
    const now = new Set(storedRoles(profile));
    const granted = [...now].filter((role) => !was.has(role));
    const removed = [...was].filter((role) => !now.has(role));
    if (granted.length) metric("RolesGranted", granted.length);
    if (removed.length) metric("RolesRemoved", removed.length);
    if (granted.length || removed.length) {
      audit("roles changed by the post-login hook", {
        ...audited,
        target: userId,
        granted: granted.join(" ") || undefined,
        removed: removed.join(" ") || undefined,
      });
    }
  }
  return loginResult(profile, claimsNamespace);
}
