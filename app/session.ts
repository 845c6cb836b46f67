/**
 * A signed-in person as the screens see them: who they are, what their token says, the API with
 * a fresh token, and their library on this device with its sync.
 */
import type { MusicApi } from "../client/index.ts";
import type { LibraryDb } from "./store.ts";
import type { Sync } from "./sync.ts";

export interface Session {
  /** The user's Auth0 id (the ID token's `sub`): the `{userId}` of their profile routes. */
  userId: string;
  roles: string[];
  api: () => Promise<MusicApi>;
  /** Their songs, playlists and profile on this device (app/store.ts). */
  db: LibraryDb;
  sync: Sync;
  /** Clears the device's library, revokes the refresh token, ends the session at the tenant. */
  logout: () => void;
}

const EDITOR_ROLE = "playlist_editor";

/** Whether the token names them an editor of featured playlists: only to choose what to show. */
export const isEditor = (session: Session) => session.roles.includes(EDITOR_ROLE);
