import { type MetadataPair, modifyMetadata, type Profile } from "../db/profiles.ts";
import { checkMetadataSize, type Metadata } from "./metadata.ts";
import { DEFAULT_DISPLAY_NAME } from "./profile.ts";
import { PLAYLIST_EDITOR, rolesOf } from "./roles.ts";

/**
 * The seed's login rules, fixed: a default display name that never overwrites a chosen one,
 * and the playlist_editor role granted or revoked from the stored play total while every
 * other role is kept. Pure: returns the metadata to store, or undefined when nothing changes.
 */
export function loginChanges(profile: Profile, minPlays: number): MetadataPair | undefined {
  let userMetadata = profile.userMetadata;
  let appMetadata = profile.appMetadata;
  if (typeof userMetadata.displayName !== "string") {
    userMetadata = { ...userMetadata, displayName: DEFAULT_DISPLAY_NAME };
  }
  const roles = rolesOf(profile);
  const isEditor = roles.includes(PLAYLIST_EDITOR);
  const earned = profile.totalPlays >= minPlays;
  if (earned && !isEditor) {
    appMetadata = { ...appMetadata, roles: [...roles, PLAYLIST_EDITOR] };
  } else if (!earned && isEditor) {
    appMetadata = { ...appMetadata, roles: roles.filter((role) => role !== PLAYLIST_EDITOR) };
  }
  if (userMetadata === profile.userMetadata && appMetadata === profile.appMetadata)
    return undefined;
  checkMetadataSize("user_metadata", userMetadata);
  checkMetadataSize("app_metadata", appMetadata);
  return { userMetadata, appMetadata };
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

/** One read of the profile and at most one conditional write, only when something changed. */
export async function runPostLogin(
  userId: string,
  minPlays: number,
  claimsNamespace: string,
): Promise<PostLoginResult> {
  const { profile } = await modifyMetadata(userId, (current) => loginChanges(current, minPlays));
  return loginResult(profile, claimsNamespace);
}
