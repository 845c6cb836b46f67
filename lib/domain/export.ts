/**
 * A user's data export (CONTRACT: Data rights), page by page: the first page carries the
 * profile, the favourite genre and the play total besides the first songs and playlists; each
 * later one only the items that follow. A page holds at most EXPORT_PAGE_BYTES of JSON, well
 * under the 6 MB a Lambda function may answer; lib/db/export.ts says what a page may hold while
 * the user writes.
 */

import { stampFirstSeen } from "../db/counters/user.ts";
import {
  decodeExportCursor,
  type ExportPosition,
  encodeExportCursor,
  exportItems,
} from "../db/export.ts";
import { emptyProfile, getProfileAndCounters } from "../db/profiles.ts";
import { NotFoundError } from "../errors.ts";
import type { Playlist, Song } from "../schemas/answers.ts";
import { type UserObject, userObject } from "./user.ts";

const EXPORT_FORMAT = "music-user-data-export/1";

/** At most this many bytes of JSON per page: 4 MB, whichever way a megabyte is counted. */
const EXPORT_PAGE_BYTES = 4_000_000;

/** Room kept for the cursor, which is written last (a signed position: under 200 bytes). */
const CURSOR_ROOM = 512;

export interface ExportPage {
  format: typeof EXPORT_FORMAT;
  exportedAt: string;
  user?: UserObject;
  favGenre?: string | null;
  totalPlays?: number;
  songs: Song[];
  playlists: Playlist[];
  nextCursor: string | null;
}

/**
 * One page of `userId`'s export. Without a cursor, the first: the export's time is now, and a
 * user with nothing stored is the empty profile for themself, `404 inexistent_user` for an
 * operator (`mustExist`). With one, the page after it.
 */
export async function exportPage(
  userId: string,
  cursor: string | undefined,
  mustExist: boolean,
): Promise<ExportPage> {
  let position: ExportPosition;
  let head: Omit<ExportPage, "songs" | "playlists" | "nextCursor">;
  if (cursor === undefined) {
    // Taken before anything is read: every item created up to this instant belongs in it.
    const exportedAt = new Date().toISOString();
    const { profile, counters, firstSeenAt: seen } = await getProfileAndCounters(userId);
    if (!profile && !seen && mustExist)
      throw new NotFoundError("The user does not exist", "inexistent_user");
    // The user themself with nothing stored is seen now, as GET /users/{userId} sees them.
    const firstSeenAt =
      profile?.createdAt || seen || mustExist ? seen : await stampFirstSeen(userId);
    const stored = profile ?? emptyProfile(userId);
    position = { section: "songs", exportedAt };
    head = {
      format: EXPORT_FORMAT,
      exportedAt,
      user: userObject(stored, firstSeenAt),
      favGenre: stored.favGenre,
      totalPlays: counters.totalPlays,
    };
  } else {
    position = await decodeExportCursor(userId, cursor);
    head = { format: EXPORT_FORMAT, exportedAt: position.exportedAt };
  }
  const envelope = Buffer.byteLength(
    JSON.stringify({ ...head, songs: [], playlists: [], nextCursor: null }),
    "utf8",
  );
  const { songs, playlists, next } = await exportItems(
    userId,
    position,
    EXPORT_PAGE_BYTES - envelope - CURSOR_ROOM,
  );
  return {
    ...head,
    songs,
    playlists,
    nextCursor: next ? await encodeExportCursor(userId, next) : null,
  };
}
