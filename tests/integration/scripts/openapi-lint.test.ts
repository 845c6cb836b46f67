import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../../scripts/local/serverless-config.ts";

/**
 * Redocly CLI 2 looks for `redocly.yaml` in the working directory: a plain
 * `npx redocly lint docs/openapi.json` must then lint with this project's rules, and find
 * nothing, as `npm test` does.
 */
const run = promisify(execFile);

describe("redocly lint without options", () => {
  it("reads the project's redocly.yaml (recommended-strict) and reports no problem", async () => {
    const { stdout } = await run(
      join(ROOT, "node_modules", ".bin", "redocly"),
      ["lint", "docs/openapi.json", "--format", "json"],
      {
        cwd: ROOT,
        env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
      },
    );
    const report = JSON.parse(stdout) as {
      totals: { errors: number; warnings: number };
      problems: { ruleId: string; message: string }[];
    };
    expect(report.problems.map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
    const config = readFileSync(join(ROOT, "redocly.yaml"), "utf8");
    expect(config).toMatch(/^extends:\n\s+- recommended-strict$/m);
  });
});
