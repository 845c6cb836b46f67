/**
 * Moving in all at once (CONTRACT: Auth0 and the store in step, `npm run import:auth0`): each
 * user of an Auth0 users export gets the profile the post-login hook would have moved in at
 * their first login (migrationOf), written only while the store has never seen them. A batch
 * costs one presence read (skipping users already there cheaply, so a rerun is mostly reads),
 * then one conditional PutItem per user still unseen, all of the batch at once.
 */
import { MOVE_IN_BATCH, putMovedInProfile, seenUsers } from "../db/profiles.ts";
import type { Migration } from "./migration.ts";

export { MOVE_IN_BATCH };

/** What became of one user: their profile written, the store holding them, or nothing to move. */
export type MoveInOutcome = "imported" | "present" | "nothing";

function hasAnything(migration: Migration): boolean {
  return (
    Object.keys(migration.userMetadata).length > 0 || Object.keys(migration.appMetadata).length > 0
  );
}

/**
 * Moves in a batch of at most MOVE_IN_BATCH users, each with what moveInPlan moves of them: the
 * outcome of each, in order. Two lines of one user: the first put wins, the other finds it
 * present. A user with nothing to move (no metadata, or every key refused) is not written: the
 * store then sees them first at their login, as it would have without the import.
 */
export async function moveInBatch(
  batch: readonly { userId: string; migration: Migration }[],
): Promise<MoveInOutcome[]> {
  const candidates = batch.filter(({ migration }) => hasAnything(migration));
  const seen = candidates.length
    ? await seenUsers(candidates.map(({ userId }) => userId))
    : new Set<string>();
  return Promise.all(
    batch.map(async ({ userId, migration }): Promise<MoveInOutcome> => {
      if (!hasAnything(migration)) return "nothing";
      if (seen.has(userId)) return "present";
      const written = await putMovedInProfile(
        userId,
        migration.userMetadata,
        migration.appMetadata,
      );
      return written ? "imported" : "present";
    }),
  );
}
