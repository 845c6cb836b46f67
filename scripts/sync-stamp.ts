/**
 * `npm run sync:stamp [-- --stage NAME]`: once, after deploying sync over tables that already
 * hold data. Items written before sync existed carry no change stamp, so they are outside the
 * index a pull reads from and no device would ever receive them; this stamps each of them
 * (lib/db/changes.ts, stampUnversioned). Safe beside live traffic, and running it again stamps
 * nothing.
 */
import { commandLine } from "./local/cli.ts";
import { useTables } from "./local/target.ts";

const { values } = commandLine(
  `usage: npm run sync:stamp [-- --stage NAME]

Gives every song, playlist and profile stored before sync existed its change stamp, so that
devices' pulls deliver it (docs/sync.md). Run it once after the first deploy of sync over a
stage that already holds data. An item written meanwhile keeps its own stamp; running it again
stamps nothing. Ends with "stamped N".

  (default)      the tables of the running npm start (its DynamoDB Local)
  --stage NAME   the deployed stage's tables (names from serverless.yml), with the AWS
                 credentials and region of the SDK's default chain (AWS_PROFILE, AWS_REGION, ...)`,
  { options: { stage: { type: "string" } } },
);

await useTables("sync:stamp", values.stage);
// lib reads its configuration when imported: only after the tables are chosen.
const { stampUnversioned } = await import("../lib/db/changes.ts");
const stamped = await stampUnversioned((page) => {
  if (page > 0 && process.stderr.isTTY) process.stderr.write(".");
});
if (process.stderr.isTTY) process.stderr.write("\n");
console.log(`stamped ${stamped}`);
