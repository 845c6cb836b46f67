/**
 * Imported first by featured-cache.test.ts, before anything reads the configuration: a featured
 * table of its own (the test creates it), so that other test files' featured writes, which bump
 * the shared table's stamp, cannot change how many reads this file's home loads make. Its calls
 * name a table serverless.yml does not know, so they stay out of tests/deploy/iam.test.ts's
 * record (featured.test.ts records the same calls on the real table).
 */
process.env.FEATURED_TABLE = `test-featured-cache-${process.pid}`;
delete process.env.DYNAMODB_CALL_LOG_DIR;
