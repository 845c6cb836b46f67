/**
 * `npm run reset`: empties DATA_DIR (default .data): DynamoDB Local's tables, the local tenant's
 * signing key, clients and app_metadata, the cursor secret. It refuses while an `npm start` runs
 * on that directory (the stack it recorded in .local-stack.json, its process alive), and stops
 * nothing: stop the stack first.
 */
import { existsSync, readdirSync, realpathSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, relative, sep } from "node:path";
import { commandLine } from "./local/cli.ts";
import { ROOT } from "./local/serverless-config.ts";
import { localSettings, runningStack } from "./local/settings.ts";

commandLine(
  `usage: npm run reset

Empties DATA_DIR (default .data): the local tables and everything in them, the local tenant's
signing key, clients and app_metadata, the cursor secret. The next npm start begins afresh
(tokens issued before no longer verify). Refuses while npm start runs on that DATA_DIR: stop it
first (Ctrl-C); reset stops nothing.`,
  {},
);

const real = (path: string) => (existsSync(path) ? realpathSync(path) : path);
const { dataDir } = localSettings();
const target = real(dataDir);

/** Why `dir` must not be emptied, if it looks like anything but a data directory. */
function unsafe(dir: string): string | undefined {
  const root = real(ROOT);
  if (dir === dirname(dir)) return "it is the file system's root";
  if (dir === real(homedir())) return "it is your home directory";
  if (root === dir || !relative(dir, root).startsWith("..")) return "it holds this checkout";
  if (existsSync(join(dir, "package.json")) || existsSync(join(dir, ".git")))
    return "it holds a project (package.json or .git), not local data";
  return undefined;
}

const problem = unsafe(target);
if (problem) {
  console.error(`reset: DATA_DIR=${dataDir} is not emptied: ${problem}. Nothing was removed.`);
  process.exit(2);
}
const stack = runningStack();
if (stack?.env.DATA_DIR && real(stack.env.DATA_DIR) === target) {
  console.error(
    `reset: npm start (pid ${stack.pid}) is running on ${dataDir}: stop it first (Ctrl-C in its terminal), then run npm run reset again. Nothing was removed.`,
  );
  process.exit(1);
}
if (!existsSync(target)) {
  console.log(`reset: ${dataDir} does not exist; nothing to remove`);
  process.exit(0);
}
const entries = readdirSync(target);
for (const entry of entries) rmSync(join(target, entry), { recursive: true, force: true });
const shown = relative(ROOT, dataDir).startsWith(`..${sep}`) ? dataDir : relative(ROOT, dataDir);
console.log(
  entries.length
    ? `reset: emptied ${shown} (${entries.sort().join(", ")}); the next npm start begins afresh`
    : `reset: ${shown} was empty already`,
);
