/** `npm run events`: writes events/ from scripts/local/sample-events.ts (then Biome formats it). */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { commandLine } from "./local/cli.ts";
import { sampleEvents } from "./local/sample-events.ts";
import { ROOT } from "./local/serverless-config.ts";

commandLine(
  `usage: npm run events

Writes events/ (sample HTTP API and Auth0 post-login events) from scripts/local/sample-events.ts,
then formats them with Biome. tests/unit/events.test.ts fails when the two differ.`,
  {},
);

const files = Object.entries(sampleEvents()).map(([name, event]) => {
  const file = join(ROOT, "events", `${name}.json`);
  writeFileSync(file, `${JSON.stringify(event, null, 2)}\n`);
  return file;
});
execFileSync(
  process.execPath,
  [join(ROOT, "node_modules/@biomejs/biome/bin/biome"), "format", "--write", ...files],
  {
    stdio: "inherit",
  },
);
console.log(`wrote ${files.length} events`);
