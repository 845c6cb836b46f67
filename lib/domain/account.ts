import { deleteAllPlaylists, deleteAllSongs } from "../db/account.ts";
import { deleteProfile, getProfile } from "../db/profiles.ts";
import { PreconditionFailedError } from "../http/errors.ts";
import type { VersionPrecondition } from "../http/etag.ts";

/**
 * Erases a user: songs, playlists, then the profile. Idempotent: a repeat, or a retry after a
 * failure part way, finishes what is left. With If-Match, nothing is touched unless it holds.
 */
export async function deleteAccount(
  userId: string,
  precondition?: VersionPrecondition,
): Promise<void> {
  let expectedVersion: number | undefined;
  if (precondition) {
    const version = (await getProfile(userId))?.version ?? 0;
    if (!precondition(version)) throw new PreconditionFailedError();
    expectedVersion = version;
  }
  await deleteAllSongs(userId);
  await deleteAllPlaylists(userId);
  await deleteProfile(userId, expectedVersion);
}
