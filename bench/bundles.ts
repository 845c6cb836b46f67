import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { build } from "esbuild";
import { loadServerlessConfig, ROOT, SERVERLESS_BIN } from "../scripts/local/serverless-config.ts";

/**
 * The functions as they deploy (`serverless package`, each bundle taken from its zip), and the
 * bare minimum and the bare replayer built with the same esbuild settings.
 */
export interface Bundles {
  functions: Record<string, string>;
  bareMinimum: string;
  bareReplay: string;
  cursorSecret: string;
}

export async function buildBundles(work: string): Promise<Bundles> {
  const packageDir = join(work, "package");
  const cursorSecret = "bench-cursor-secret-0123456789-0123456789";
  execFileSync(
    process.execPath,
    [SERVERLESS_BIN, "package", "--stage", "bench", "--package", packageDir],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        AUTH_ISSUER: "https://bench.example.com/",
        AUTH_AUDIENCE: "https://api.music.example.com",
        CURSOR_SECRET: "",
        DYNAMODB_ENDPOINT: "",
        DYNAMODB_CALL_LOG_DIR: "",
        // A build folder of its own, under the work directory: nothing else in the checkout
        // is touched by the bench's packaging.
        ESBUILD_WORK_FOLDER: relative(ROOT, join(work, "esbuild")),
        SLS_TELEMETRY_DISABLED: "1",
      },
      stdio: "ignore",
    },
  );
  const functions: Record<string, string> = {};
  for (const zip of readdirSync(packageDir).filter((f) => f.endsWith(".zip"))) {
    const name = zip.replace(/\.zip$/, "");
    const dir = join(work, "functions", name);
    mkdirSync(dir, { recursive: true });
    execFileSync("unzip", ["-q", "-o", join(packageDir, zip), "-d", dir]);
    functions[name] = join(dir, "functions", `${name}.mjs`);
  }
  return {
    functions,
    bareMinimum: await buildBare(join(work, "bare"), "minimum"),
    bareReplay: await buildBare(join(work, "bare"), "replay"),
    cursorSecret,
  };
}

/**
 * Builds bench/bare/<entry>.ts with the functions' esbuild settings into `<folder>/<entry>`
 * (its entry file and every chunk it may import); answers the entry file.
 */
export async function buildBare(folder: string, entry: string): Promise<string> {
  const settings = (
    loadServerlessConfig("dev") as unknown as { custom: { esbuild: Record<string, unknown> } }
  ).custom.esbuild as {
    bundle: boolean;
    minify: boolean;
    target: string;
    platform: "node";
    format: "esm";
    splitting: boolean;
    mainFields: string[];
  };
  const outdir = join(folder, entry);
  const { bundle, minify, target, platform, format, splitting, mainFields } = settings;
  await build({
    entryPoints: [join(ROOT, "bench", "bare", `${entry}.ts`)],
    outdir,
    outExtension: { ".js": ".mjs" },
    bundle,
    minify,
    target,
    platform,
    format,
    splitting,
    mainFields,
    logLevel: "silent",
  });
  return join(outdir, `${entry}.mjs`);
}
