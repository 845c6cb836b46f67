import {
  deleteAllPlaylists,
  deleteAllSongs,
  deleteProfileAndCounters,
  finishAccountDeletion,
  markAccountDeleting,
} from "../db/account.ts";
import { deletionUnderWay } from "../db/counters.ts";
import { getProfileAndCounters, getUserRecord, type IfVersion } from "../db/profiles.ts";
import { deleteAuth0User } from "../management-api.ts";
import { metric } from "../metrics.ts";
import type { WriteRefusal } from "../refusals.ts";
import { forgetEditorSongs } from "./featured.ts";
import { tokenCutOff } from "./rate-limits.ts";
import { deniedRoles } from "./roles.ts";

/** What became of the Auth0 user: deleted, there was none, or no Management API configured. */
export type Auth0Outcome = Awaited<ReturnType<typeof deleteAuth0User>>;

/**
 * Erases a user (CONTRACT: Data rights): marks the account and writes the deletion marker
 * (If-Match checked atomically, before anything is removed), then songs, playlists, and the
 * profile with the counters; an operator's `denied_roles` outlive it (a tombstone), so that a
 * user cannot undo them by deleting their account; the profile and the user counter stay as
 * bare `deleting` marks, so every write stays refused. Then the Auth0 user goes (Management
 * API), and last the marks with the marker: until then the post-login hook refuses the user. Idempotent and
 * resumable: while the marker exists, any DELETE of the user (its If-Match was checked when the
 * deletion began) runs every step again, finishing what an interrupted one left. Answers the
 * refusal, if any, else what became of the Auth0 user; throws a 503 when Auth0 could not be
 * reached (the marker stays for the next DELETE).
 */
export async function deleteAccount(
  userId: string,
  precondition: IfVersion | undefined,
  mustExist: boolean,
): Promise<{ refusal: WriteRefusal } | { auth0User: Auth0Outcome; resumed: boolean }> {
  const resumed = await deletionUnderWay(userId);
  if (!resumed) {
    // For operators "nothing stored" is 404; a user known only from songs or plays has data.
    const known = mustExist && (await getUserRecord(userId)).firstSeenAt !== undefined;
    const refusal = await markAccountDeleting(userId, precondition, mustExist && !known);
    if (refusal) return { refusal };
  }
  await deleteAllSongs(userId);
  await forgetEditorSongs(userId);
  await deleteAllPlaylists(userId);
  // Read once the account is marked: nothing can change the profile any more. A tombstone
  // still there was never copied into this profile (no login since the id returned): kept too.
  const { profile, inheritedDeniedRoles } = await getProfileAndCounters(userId);
  const denied = new Set([...deniedRoles(profile), ...inheritedDeniedRoles]);
  await deleteProfileAndCounters(userId, [...denied]);
  const auth0User = await deleteAuth0User(userId);
  // Done: every token of the user issued until now is refused from now on (tokenCutOff).
  await finishAccountDeletion(userId, tokenCutOff(userId, Date.now()));
  metric("AccountsDeleted");
  return { auth0User, resumed };
}
