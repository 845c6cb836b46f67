import { PERMISSIONS, requirePermission } from "../auth/access.ts";
import type { Caller } from "../auth/verify.ts";
import {
  editorFeatured,
  getDeletedFeatured,
  getFeatured,
  removeFeaturedSongs,
  restoreFeatured,
  trashFeatured,
  updateFeatured,
} from "../db/featured.ts";
import { ForbiddenError, NotFoundError } from "../errors.ts";
import { metric } from "../metrics.ts";
import { Refused } from "../refusals.ts";
import { CONTENTION, retry } from "../retry.ts";
import type { FeaturedPlaylist } from "../schemas/answers.ts";
import type { PlaylistChanges } from "../schemas/library.ts";
import { requirePlaylistEditor } from "./roles.ts";
import { checkSongIds, settleSongIds, songIdsKept } from "./songs.ts";

/**
 * Featured playlists as editorial content. An editor (the playlist_editor role, from the stored
 * roles) creates them and changes or deletes the ones they created; an operator with
 * `update:featured` changes, deletes and restores any. A featured playlist's songs are songs of
 * its creator, whoever changes it: that is where a deletion of the song looks for it.
 */

const featuredNotFound = () =>
  new NotFoundError("Featured playlist not found", "playlist_not_found");

const mayChangeAny = (caller: Caller) => caller.permissions.has(PERMISSIONS.updateFeatured);

/**
 * The live featured playlist the caller may change or delete: any with update:featured; else an
 * editor's own (403 missing_role for a non-editor, 403 not_featured_creator for another
 * editor's). 404 when there is none.
 */
async function changeable(caller: Caller, playlistId: string): Promise<FeaturedPlaylist> {
  const operator = mayChangeAny(caller);
  // A machine is nobody's editor: without the permission it has no business here.
  if (caller.machine) requirePermission(caller, PERMISSIONS.updateFeatured);
  if (!operator) await requirePlaylistEditor(caller);
  const playlist = await getFeatured(playlistId);
  if (!playlist) throw featuredNotFound();
  if (!operator && playlist.createdBy !== caller.sub) {
    throw new ForbiddenError(
      `Only the editor who created this featured playlist, or an operator with ${PERMISSIONS.updateFeatured}, may change or delete it`,
      "not_featured_creator",
    );
  }
  return playlist;
}

/** Renames or refills a featured playlist; its songIds must be songs of its creator. */
export async function changeFeatured(
  caller: Caller,
  playlistId: string,
  changes: PlaylistChanges,
): Promise<FeaturedPlaylist> {
  const { createdBy } = await changeable(caller, playlistId);
  const checked = await checkSongIds(createdBy, changes.songIds ?? []);
  const playlist = await updateFeatured(playlistId, createdBy, changes, caller.sub);
  if (!playlist) throw featuredNotFound();
  await settleSongIds(createdBy, checked, playlist);
  return playlist;
}

/**
 * Deletes a featured playlist: it leaves the list at once and its creator's quota, and stays
 * restorable for RESTORABLE_DAYS. A change racing the deletion makes it read the playlist again,
 * so the copy kept is the last version.
 */
export async function deleteFeatured(caller: Caller, playlistId: string): Promise<void> {
  await retry(CONTENTION, async (_n, again) => {
    const seen = await changeable(caller, playlistId);
    return (await trashFeatured(seen, caller.sub)) ? again : undefined;
  });
}

/**
 * Puts a deleted featured playlist back where it was in the list (its id, hence its place, is
 * the same), for operators with update:featured. It counts against its creator's quota again
 * (409 quota_exceeded when they hold MAX_FEATURED_PER_EDITOR since), and songs its creator
 * deleted meanwhile are left out. 404 when it was never deleted, or deleted too long ago.
 */
export async function restoreDeletedFeatured(
  caller: Caller,
  playlistId: string,
  maxPerEditor: number,
): Promise<FeaturedPlaylist> {
  requirePermission(caller, PERMISSIONS.updateFeatured);
  const deleted = await getDeletedFeatured(playlistId);
  if (!deleted) throw featuredNotFound();
  const { songIds, checked } = await songIdsKept(deleted.createdBy, deleted.songIds);
  const restored: FeaturedPlaylist = {
    ...deleted,
    songIds,
    updatedAt: new Date().toISOString(),
    updatedBy: caller.sub,
  };
  const refusal = await restoreFeatured(restored, maxPerEditor);
  if (refusal === "not_found") throw featuredNotFound();
  if (refusal === "quota") {
    metric("QuotaRefusals");
    throw new Refused(
      "quota",
      `Its editor holds ${maxPerEditor} featured playlists already (MAX_FEATURED_PER_EDITOR): delete one of theirs before restoring this one`,
    );
  }
  if (refusal) throw new Refused(refusal);
  await settleSongIds(restored.createdBy, checked, restored);
  return restored;
}

/**
 * An erased account's songs leave the featured playlists it created as an editor (the playlists
 * stay: editorial content outlives its editor's account). Run once its songs are gone.
 */
export async function forgetEditorSongs(editor: string): Promise<void> {
  for (const playlist of await editorFeatured(editor)) {
    const { playlistId, songIds } = playlist;
    if (songIds.length) await removeFeaturedSongs(playlistId, new Set(songIds), songIds);
  }
}
