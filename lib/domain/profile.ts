import {
  type IfVersion,
  type MetadataChange,
  PROFILES_TABLE,
  profileKey,
} from "../db/profile-item.ts";
import { getProfile, modifyMetadata, type Profile, setFavGenre } from "../db/profiles.ts";
import { BadRequestError } from "../errors.ts";
import type { WarmUpTarget } from "../lambda/warm-up.ts";
import { parse } from "../schemas/index.ts";
import { DisplayName } from "../schemas/profile.ts";
import {
  checkMetadataSize,
  MAX_METADATA_BYTES,
  type Metadata,
  mergeMetadata,
  validateMetadataPatch,
} from "./metadata.ts";

/** What the app shows when a user never chose a name (the seed's login rule). */
export const DEFAULT_DISPLAY_NAME = "user";

/** The profiles table, for a function's init warm-up. */
export const PROFILE_WARM_UP: WarmUpTarget = { table: PROFILES_TABLE, keyOf: profileKey };

/** The name a user shows: theirs, or the default when nothing is stored or none was chosen. */
export async function displayNameFor(userId: string): Promise<string> {
  const profile = await getProfile(userId);
  return profile ? displayNameOf(profile) : DEFAULT_DISPLAY_NAME;
}

export async function favGenreOf(userId: string): Promise<string | null> {
  return (await getProfile(userId))?.favGenre ?? null;
}

export async function chooseFavGenre(userId: string, genre: string): Promise<string> {
  await setFavGenre(userId, genre);
  return genre;
}

function displayNameOf(profile: Profile): string {
  const name = profile.userMetadata.displayName;
  return typeof name === "string" ? name : DEFAULT_DISPLAY_NAME;
}

export interface MetadataPatch {
  user_metadata?: Metadata | undefined;
  app_metadata?: Metadata | undefined;
}

/**
 * The change a PATCH makes, checked against the profile as read: field names were checked by
 * patchMetadata, `displayName` goes through the same validation as PUT /displayName, and each
 * object must stay within 32 kB once merged into what is stored (the write checks it again
 * against what is stored when it lands).
 */
function metadataChange(current: Profile, patch: MetadataPatch): MetadataChange {
  const change: MetadataChange = {};
  if (patch.user_metadata !== undefined) {
    const changes = { ...patch.user_metadata };
    if (changes.displayName !== undefined && changes.displayName !== null) {
      changes.displayName = parse(DisplayName, changes.displayName, "displayName");
    }
    checkMetadataSize("user_metadata", mergeMetadata(current.userMetadata, changes));
    change.user_metadata = { patch: changes, maxBytes: MAX_METADATA_BYTES };
  }
  if (patch.app_metadata !== undefined) {
    checkMetadataSize("app_metadata", mergeMetadata(current.appMetadata, patch.app_metadata));
    change.app_metadata = { patch: patch.app_metadata, maxBytes: MAX_METADATA_BYTES };
  }
  return change;
}

export function checkPatchNotEmpty(patch: MetadataPatch): void {
  if (patch.user_metadata === undefined && patch.app_metadata === undefined) {
    throw new BadRequestError("Send user_metadata, app_metadata or both");
  }
}

/**
 * Applies a PATCH. `mustExist` (operators): a user with nothing stored is refused, nothing is
 * created. Answers the profile before and after, for the audit of app_metadata changes.
 */
export async function patchMetadata(
  userId: string,
  patch: MetadataPatch,
  precondition?: IfVersion,
  mustExist = false,
  /**
   * Reads the profile for the first attempt (a caller that needs more of the user at once), and
   * whether the user is known without one (then an operator may write it).
   */
  firstRead?: () => Promise<{ profile: Profile | undefined; known: boolean }>,
): Promise<{ before: Profile | undefined; profile: Profile }> {
  // Bad input is 400 before anything else, even for a user who does not exist; checked once,
  // not on every attempt of the write.
  if (patch.user_metadata !== undefined)
    validateMetadataPatch("user_metadata", patch.user_metadata);
  if (patch.app_metadata !== undefined) validateMetadataPatch("app_metadata", patch.app_metadata);
  let before: Profile | undefined;
  const apply = (current: Profile) => {
    before = current;
    return metadataChange(current, patch);
  };
  const first = firstRead ? await firstRead() : undefined;
  const read = first ? { initial: first.profile, known: first.known } : {};
  const { profile } = await modifyMetadata(userId, apply, { precondition, mustExist, ...read });
  return { before, profile };
}

export async function setDisplayName(userId: string, displayName: string): Promise<string> {
  const { profile } = await patchMetadata(userId, { user_metadata: { displayName } });
  return displayNameOf(profile);
}
