import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../../scripts/local/serverless-config.ts";

/**
 * Where the test run records the IAM calls of every function and every answer of the API
 * (lib/instrumentation/call-log.ts): one folder per checkout (or TEST_CALL_LOG_DIR, for runs side by side in one
 * checkout), emptied when a run starts (tests/global-setup.ts) and read when it ends
 * (tests/deploy/iam.test.ts, tests/deploy/answers.test.ts).
 */
export const CALL_LOG_DIR =
  process.env.TEST_CALL_LOG_DIR ||
  join(tmpdir(), `music-iam-calls-${createHash("sha256").update(ROOT).digest("hex").slice(0, 12)}`);

/** One answer the API gave: its route key, status and (for an error) errorCode. */
export interface RecordedAnswer {
  route: string;
  status: number;
  errorCode?: string;
}

/** Every distinct answer the run recorded, in process and under `npm start`. */
export function recordedAnswers(): RecordedAnswer[] {
  const folder = join(CALL_LOG_DIR, "answers");
  // No answer at all is a run that recorded none: the checks then fail on what is missing.
  if (!existsSync(folder)) return [];
  const lines = readdirSync(folder)
    .filter((file) => file.endsWith(".jsonl"))
    .flatMap((file) => readFileSync(join(folder, file), "utf8").split("\n").filter(Boolean));
  return [...new Set(lines)].map((line) => JSON.parse(line) as RecordedAnswer);
}
