import { spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { pathToFileURL } from "node:url";
import type { Bundles } from "./bundles.ts";
import { median, progress, round } from "./common.ts";

/** One import of a bundle in a fresh Node process: what a cold start pays before the handler. */
function importOnce(file: string, env: Record<string, string>): number {
  const script = `const t=performance.now();await import(${JSON.stringify(pathToFileURL(file).href)});process.stdout.write(String(performance.now()-t))`;
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    env: { PATH: process.env.PATH, ...env },
    encoding: "utf8",
  });
  if (result.status !== 0) throw new Error(`importing ${file} failed: ${result.stderr}`);
  return Number(result.stdout);
}

/** Bundle size and median import time of each function beside the bare minimum. */
export function measureCold(bundles: Bundles, env: Record<string, string>, runs: number) {
  // Rounds interleave every bundle, so drift of the machine touches all of them alike.
  const times = new Map<string, number[]>([
    [bundles.bareMinimum, []],
    ...Object.values(bundles.functions).map((f) => [f, []] as [string, number[]]),
  ]);
  const counter = progress("cold import rounds", runs);
  for (let i = 0; i < runs; i++) {
    for (const [file, list] of times) list.push(importOnce(file, env));
    counter.step();
  }
  const bareBytes = statSync(bundles.bareMinimum).size;
  const bareImport = median(times.get(bundles.bareMinimum) ?? []);
  const cold = Object.entries(bundles.functions).map(([name, file]) => {
    const bytes = statSync(file).size;
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
