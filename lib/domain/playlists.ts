/**
 * Playlists, plays and featured playlists as the playlists routes use them: the table
 * operations whose rules live in the table modules themselves (quotas and cooldowns are
 * conditions of their writes), offered here so that route functions never import a table module.
 */
export { listFeatured, newFeatured, putFeatured } from "../db/featured.ts";
export type { RecordItems } from "../db/idempotency.ts";
export { getRecord } from "../db/idempotency.ts";
export {
  addPlay,
  deletePlaylist,
  getPlaylist,
  listPlaylists,
  newPlaylist,
  putPlaylist,
  updatePlaylist,
} from "../db/playlists.ts";
