/** `npm run events`: writes events/ from scripts/local/sample-events.ts (then Biome formats it). */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { sampleEvents } from "./local/sample-events.ts";
import { ROOT } from "./local/serverless-config.ts";

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
