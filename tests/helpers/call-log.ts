import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../../scripts/local/serverless-config.ts";

/**
 * Where the test run records the IAM calls of every function (lib/instrumentation/call-log.ts): one folder
 * per checkout, emptied when a run starts (tests/global-setup.ts) and read when it ends
 * (tests/deploy/iam.test.ts).
 */
export const CALL_LOG_DIR = join(
  tmpdir(),
  `music-iam-calls-${createHash("sha256").update(ROOT).digest("hex").slice(0, 12)}`,
);
