import { deleteAuth0User } from "../auth0/management-api.ts";
import {
  cutOffOnly,
  deleteAllPlaylists,
  deleteAllSongs,
  deleteProfileAndCounters,
  finishAccountDeletion,
  markAccountDeleting,
} from "../db/account.ts";
import { deletionUnderWay } from "../db/counters/deletion.ts";
import type { IfVersion } from "../db/profile-item.ts";
import { getProfileAndCounters, getUserRecord } from "../db/profiles.ts";
import { metric } from "../metrics.ts";
import type { WriteRefusal } from "../refusals.ts";
import { forgetEditorSongs } from "./featured.ts";
import { tokenCutOff } from "./rate-limits.ts";
import { deniedRoles } from "./roles.ts";

/** What became of the Auth0 user: deleted, there was none, or no Management API configured. */
export type Auth0Outcome = Awaited<ReturnType<typeof deleteAuth0User>>;

/**
 * Who asked: a DELETE (the Auth0 user goes too), or Auth0 itself, which deleted the user already
 * (its log stream): then Auth0 is not called back.
 */
export type DeletionSource = "api" | "auth0";

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
  source: DeletionSource = "api",
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
  // Auth0's own deletion needs no call back: the user is gone there ("absent").
  const auth0User = source === "auth0" ? "absent" : await deleteAuth0User(userId);
  // Done: every token of the user issued until now is refused from now on (tokenCutOff).
  await finishAccountDeletion(userId, tokenCutOff(userId, Date.now()));
  metric("AccountsDeleted");
  return { auth0User, resumed };
}

/** What an `sdu` log event did: erased the account, or nothing (see eraseDeletedAuth0User). */
export type Auth0DeletionOutcome =
  | { erased: true; resumed: boolean }
  | { erased: false; why: "nothing_stored" | "newer_account" };

/**
 * Auth0 deleted the user at `deletedAt` (its log event's date, when it says): their data goes as
 * a DELETE erases it, without calling Auth0 back. A deletion under way is resumed. An account
 * the store began after `deletedAt` is a new one of the same user id (they signed up again
 * before the event arrived): it stays. With nothing stored, only the user's tokens issued until
 * then are cut off.
 */
export async function eraseDeletedAuth0User(
  userId: string,
  deletedAt: string | undefined,
): Promise<Auth0DeletionOutcome> {
  if (!(await deletionUnderWay(userId))) {
    const { profile, firstSeenAt } = await getUserRecord(userId);
    const began = [profile?.createdAt, firstSeenAt].filter((t): t is string => !!t).sort()[0];
    if (began === undefined) {
      const at = deletedAt ? Date.parse(deletedAt) : Date.now();
      await cutOffOnly(tokenCutOff(userId, Number.isNaN(at) ? Date.now() : at));
      return { erased: false, why: "nothing_stored" };
    }
    if (deletedAt && began > deletedAt) return { erased: false, why: "newer_account" };
  }
  const outcome = await deleteAccount(userId, undefined, false, "auth0");
  // No If-Match and no operator: nothing refuses it.
  if ("refusal" in outcome) throw new Error(`the deletion was refused: ${outcome.refusal}`);
  return { erased: true, resumed: outcome.resumed };
}
