/** `npm run events`: writes events/ from scripts/local/sample-events.ts (then Biome formats it). */
import { execFileSync } from "node:child_process";
import { readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { commandLine } from "./local/cli.ts";
import { sampleEvents } from "./local/sample-events.ts";
import { ROOT } from "./local/serverless-config.ts";

commandLine(
  `usage: npm run events

Writes events/ (a sample HTTP API event per declared route, named by its operationId, and Auth0
post-login events) from scripts/local/sample-events.ts, then formats them with Biome.
tests/unit/events.test.ts fails when the two differ.`,
  {},
);

const events = await sampleEvents();
// A renamed or removed route's old event goes: events/ holds what is generated, nothing else.
for (const file of readdirSync(join(ROOT, "events"))) {
  if (file.endsWith(".json") && !Object.hasOwn(events, file.slice(0, -5))) {
    rmSync(join(ROOT, "events", file));
  }
}
const files = Object.entries(events).map(([name, event]) => {
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
