/**
 * Imported first by plays-offline.test.ts, before anything reads the configuration (it is read
 * once per process): the contract's default cooldown, and an editor role three plays away.
 */
process.env.PLAY_COOLDOWN_SECONDS = "30";
process.env.PLAYLIST_EDITOR_MIN_PLAYS = "3";
