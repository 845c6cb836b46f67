import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../../scripts/local/serverless-config.ts";

/**
 * Every npm script answers `--help` with its usage and exit code 0, before doing anything (npm
 * start starts nothing, load starts no stack), and a wrong option with what is wrong, the usage
 * and exit code 2: never a stack trace.
 */
const run = promisify(execFile);
const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;

async function npmRun(script: string, args: string[], env: Record<string, string> = {}) {
  return run("npm", ["run", "-s", script, "--", ...args], {
    cwd: ROOT,
    timeout: 60_000,
    env: { ...process.env, ...env },
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
}

describe("npm run <script> -- --help", () => {
  it.each([
    ["token", "usage: npm run token"],
    ["env", "usage: npm run env"],
    ["load", "usage: npm run load"],
    ["login", "usage: npm run login"],
    ["events", "usage: npm run events"],
    ["openapi", "usage: npm run openapi"],
    ["app:build", "npm run app:build"],
    ["start", "usage: npm start"],
    ["bench", "usage: npm run bench"],
    ["cost", "usage: npm run cost"],
    ["reset", "usage: npm run reset"],
    ["import:auth0", "usage: npm run import:auth0"],
    ["export:local-tenant", "usage: npm run export:local-tenant"],
    ["sync:stamp", "usage: npm run sync:stamp"],
  ])("%s prints its usage and exits 0", async (script, usage) => {
    const result = await npmRun(script, ["--help"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(usage);
    expect(`${result.stdout}${result.stderr}`).not.toMatch(STACK_LINE);
  });

  it.each([
    ["token", ["--bogus"], "Unknown option '--bogus'"],
    ["load", ["--bogus"], "Unknown option '--bogus'"],
    ["load", ["--duration"], "argument missing"],
    ["load", ["--connections", "many"], "must be positive numbers"],
    ["bench", ["--bogus"], "Unknown option '--bogus'"],
    ["bench", ["--quick", "--record"], "--quick figures are indicative: they are never recorded"],
    ["cost", ["--bogus"], "Unknown option '--bogus'"],
    ["import:auth0", [], "FILE is missing"],
    ["sync:stamp", ["--bogus"], "Unknown option '--bogus'"],
    ["import:auth0", ["export.json", "--parallel", "0"], "--parallel must be a positive integer"],
  ])("%s %j says what is wrong, with the usage, and exits 2", async (script, args, problem) => {
    const result = await npmRun(script, args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(problem);
    expect(result.stderr).toContain(`usage: npm run ${script}`);
    expect(result.stderr).not.toMatch(STACK_LINE);
  });

  it("app:build refuses the docs' placeholders, as packaging does, and writes nothing", async () => {
    const result = await npmRun("app:build", ["--out", "dist/app-placeholders-test"], {
      AUTH_ISSUER: "https://YOUR_TENANT.us.auth0.com/",
      AUTH_AUDIENCE: "https://api.music.example.com",
      APP_CLIENT_ID: "<the SPA's client id>",
      API_URL: "https://<api-id>.execute-api.<region>.amazonaws.com",
    });
    expect(result.code).toBe(2);
    for (const name of ["AUTH_ISSUER", "APP_CLIENT_ID", "API_URL"]) {
      expect(result.stderr).toContain(`${name} is still a placeholder from the docs`);
    }
    expect(result.stderr).not.toContain("AUTH_AUDIENCE");
    expect(existsSync(join(ROOT, "dist/app-placeholders-test"))).toBe(false);
  });
});
