import {
  deleteAllPlaylists,
  deleteAllSongs,
  deleteProfileAndCounters,
  markAccountDeleting,
} from "../db/account.ts";
import { getProfileAndCounters, type IfVersion } from "../db/profiles.ts";
import type { WriteRefusal } from "../db/refusals.ts";
import { forgetEditorSongs } from "./featured.ts";
import { deniedRoles } from "./roles.ts";

/**
 * Erases a user: marks the account (If-Match checked atomically, before anything is removed),
 * then songs, playlists, and last the profile with the counters. An operator's `denied_roles`
 * outlive it (a tombstone), so that a user cannot undo them by deleting their account.
 * Idempotent: a repeat, or a retry after a failure part way, finishes what is left. Answers
 * the refusal, if any.
 */
export async function deleteAccount(
  userId: string,
  precondition: IfVersion | undefined,
  mustExist: boolean,
): Promise<WriteRefusal | undefined> {
  const refusal = await markAccountDeleting(userId, precondition, mustExist);
  if (refusal) return refusal;
  await deleteAllSongs(userId);
  await forgetEditorSongs(userId);
  await deleteAllPlaylists(userId);
  // Read once the account is marked: nothing can change the profile any more. A tombstone
  // still there was never copied into this profile (no login since the id returned): kept too.
  const { profile, inheritedDeniedRoles } = await getProfileAndCounters(userId);
  const denied = new Set([...deniedRoles(profile), ...inheritedDeniedRoles]);
  await deleteProfileAndCounters(userId, [...denied]);
  return undefined;
}
