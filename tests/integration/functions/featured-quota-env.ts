/**
 * Imported first by featured.test.ts, before anything reads the configuration (it is read once
 * per process): a quota small enough to reach, as an operator could set it.
 */
process.env.MAX_FEATURED_PER_EDITOR = "3";
