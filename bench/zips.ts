/**
 * Each function's deployed zip beside the bare minimum's (issue 29: at most 1.30 times). The
 * bare minimum is not packaged by serverless, so both are measured the same way: every file of
 * the build deflated at level 9, plus the zip format's headers (what a zip of those files
 * weighs); the zip serverless wrote is shown too. The bare minimum's files are all its build
 * wrote (its entry and every chunk it may import), as a function's zip holds its own build.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { deflateRawSync } from "node:zlib";
import { round } from "./common.ts";

/** A zip of every file under `folder`, deflated at level 9: local and central headers, and the end record. */
export function deflatedZipBytes(folder: string): number {
  let total = 22;
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else {
        const nameBytes = Buffer.byteLength(relative(folder, path));
        total += 30 + 46 + 2 * nameBytes + deflateRawSync(readFileSync(path), { level: 9 }).length;
      }
    }
  };
  walk(folder);
  return total;
}

/**
 * Per function: its zip as deployed, its files measured as the bare minimum's, and the ratio.
 * `unpacked` maps each function to the folder its zip was unpacked into.
 */
export function measureZips(
  packageDir: string,
  unpacked: Record<string, string>,
  bareFolder: string,
) {
  const bare = deflatedZipBytes(bareFolder);
  const rows = Object.entries(unpacked).map(([fn, folder]) => {
    const measured = deflatedZipBytes(folder);
    return {
      function: fn,
      zipBytes: statSync(join(packageDir, `${fn}.zip`)).size,
      deflatedBytes: measured,
      ratio: round(measured / bare),
    };
  });
  return { bareDeflatedBytes: bare, rows };
}
