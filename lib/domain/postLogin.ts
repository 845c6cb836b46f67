import { deleteTombstone } from "../db/counters/tombstone.ts";
import type { MetadataChange } from "../db/profile-item.ts";
import { getProfileAndCounters, modifyMetadata, type Profile } from "../db/profiles.ts";
import { ConflictError } from "../errors.ts";
import { own } from "../json.ts";
import { audit } from "../log.ts";
import { metric } from "../metrics.ts";
import { MAX_METADATA_BYTES, type Metadata, metadataBytes } from "./metadata.ts";
import { type Migration, migrationOf, NOTHING_MOVED } from "./migration.ts";
import { DEFAULT_DISPLAY_NAME } from "./profile.ts";
import { spendWrite } from "./rate-limits.ts";
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
): LoginChanges | undefined {
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

/** Both metadata objects as the login rules leave them. */
export interface LoginChanges {
  userMetadata: Metadata;
  appMetadata: Metadata;
}

/**
 * The keys whose values differ from `before` to `after`, as a change of those keys alone (a key
 * gone is null), made only while they still hold what was read: so a login never undoes a
 * concurrent write of another key, nor one of the same key (it runs again on it).
 */
function changedKeys(
  before: Metadata,
  after: Metadata,
): { patch: Metadata; fromStored: true } | undefined {
  const patch: Metadata = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const value = own(after, key);
    if (JSON.stringify(own(before, key)) !== JSON.stringify(value)) patch[key] = value ?? null;
  }
  return Object.keys(patch).length > 0 ? { patch, fromStored: true } : undefined;
}

/** What the login rules change in a stored profile, as a change of its keys. */
function loginChange(current: Profile, next: LoginChanges): MetadataChange {
  const user = changedKeys(current.userMetadata, next.userMetadata);
  const app = changedKeys(current.appMetadata, next.appMetadata);
  return { ...(user ? { user_metadata: user } : {}), ...(app ? { app_metadata: app } : {}) };
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
  /** The user_metadata keys this login moved in from Auth0, and those it left out. */
  migration: { moved: string[]; skipped: string[] };
}

export function loginResult(
  profile: Profile,
  claimsNamespace: string,
  migration: PostLoginResult["migration"] = NOTHING_MOVED,
): PostLoginResult {
  return {
    user_metadata: profile.userMetadata,
    app_metadata: profile.appMetadata,
    claims: { [`${claimsNamespace}roles`]: rolesOf(profile) },
    migration,
  };
}

/** What Auth0 holds of the user, as the login's event carries it (either may be absent). */
export interface Auth0Metadata {
  userMetadata?: unknown;
  appMetadata?: unknown;
}

/**
 * One consistent read of the profile and the play total, and at most one conditional write,
 * only when something changed. Every role granted or removed is audited. A deletion under way
 * is answered first (409), before the user's write budget is spent: a login refused for it
 * costs the user nothing and is never a 429.
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
  auth0: Auth0Metadata = {},
): Promise<PostLoginResult> {
  metric("Logins");
  const {
    profile: initial,
    counters,
    firstSeenAt,
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
  // A login writes the user's profile: it spends that user's budget, whoever calls the hook.
  await spendWrite(userId);
  // Never seen: no profile, no counter item (songs, plays, a read), no deletion kept (its
  // tombstone). Only then does Auth0's metadata move in, once: afterwards the store is the
  // source of truth, and the event's metadata is not read.
  const neverSeen =
    initial === undefined && firstSeenAt === undefined && inheritedDeniedRoles.length === 0;
  const arriving = neverSeen ? migrationOf(auth0.userMetadata, auth0.appMetadata) : undefined;
  let before: Profile | undefined;
  let moved: Migration | undefined;
  const { profile, changed } = await modifyMetadata(
    userId,
    (current) => {
      before = current;
      // Only onto nothing stored: a write that won the race (the import, the user's own) stays.
      moved = arriving && current.version === 0 ? arriving : undefined;
      const start = moved
        ? { ...current, userMetadata: moved.userMetadata, appMetadata: moved.appMetadata }
        : current;
      const seeded = withInheritedDenials(start, inheritedDeniedRoles);
      const changes = loginChanges(seeded, counters.totalPlays, minPlays);
      if (changes) return loginChange(current, changes);
      if (seeded === current) return undefined;
      return loginChange(current, seeded);
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
  const migration = changed && moved ? moved : undefined;
  if (migration && (migration.moved.length || migration.skipped.length)) {
    // Key names only, never values.
    audit("metadata moved in from Auth0 by the post-login hook", {
      ...audited,
      target: userId,
      moved: migration.moved.join(" ") || undefined,
      skipped:
        [...migration.skipped, ...migration.skippedApp].map((s) => s.key).join(" ") || undefined,
    });
  }
  return loginResult(
    profile,
    claimsNamespace,
    migration
      ? { moved: migration.moved, skipped: migration.skipped.map(({ key }) => key) }
      : NOTHING_MOVED,
  );
}
