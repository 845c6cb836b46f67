import { readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Bundles } from "./bundles.ts";
import { median, progress, round, runNode } from "./common.ts";

/**
 * One import of a bundle in a fresh Node process: what a cold start pays before the handler
 * (with the init warm-up on, its network time too).
 */
async function importOnce(file: string, env: Record<string, string>): Promise<number> {
  const script = `const t=performance.now();await import(${JSON.stringify(pathToFileURL(file).href)});process.stdout.write(String(performance.now()-t));process.exit(0)`;
  return Number(await runNode(["--input-type=module", "-e", script], env));
}

/**
 * The bytes a cold start loads: the entry file and the chunks it imports statically, however
 * deep (esbuild's splitting). Chunks imported dynamically (import()) load only when used.
 */
function loadedBytes(entry: string): number {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const head = readFileSync(file, "utf8");
    for (const [, chunk] of head.matchAll(/(?:from|import)\s*"(\.\/[^"]+\.mjs)"/g)) {
      visit(join(dirname(file), chunk as string));
    }
  };
  visit(entry);
  return [...seen].reduce((sum, file) => sum + statSync(file).size, 0);
}

/** Bundle size and median import time of each function beside the bare minimum. */
export async function measureCold(
  bundles: Bundles,
  env: Record<string, string>,
  runs: number,
  label = "cold import rounds",
) {
  // Rounds interleave every bundle, so drift of the machine touches all of them alike.
  const times = new Map<string, number[]>([
    [bundles.bareMinimum, []],
    ...Object.values(bundles.functions).map((f) => [f, []] as [string, number[]]),
  ]);
  const counter = progress(label, runs);
  for (let i = 0; i < runs; i++) {
    for (const [file, list] of times) list.push(await importOnce(file, env));
    counter.step();
  }
  const bareBytes = loadedBytes(bundles.bareMinimum);
  const bareImport = median(times.get(bundles.bareMinimum) ?? []);
  const cold = Object.entries(bundles.functions).map(([name, file]) => {
    const bytes = loadedBytes(file);
    const ms = median(times.get(file) ?? []);
    return {
      function: name,
      bytes,
      bundleRatio: round(bytes / bareBytes),
      importMs: round(ms),
      importRatio: round(ms / bareImport),
    };
  });
  return { bareBytes, bareImport: round(bareImport), cold };
}
