import { spawnSync } from "node:child_process";
import { mkdtempSync, symlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../scripts/local/serverless-config.ts";

describe("npm start without Java", () => {
  it("says that Java is missing and how to install it, and exits non-zero", () => {
    // A PATH holding node and nothing else.
    const bin = mkdtempSync(join(tmpdir(), "music-nojava-"));
    symlinkSync(process.execPath, join(bin, "node"));
    const tsx = createRequire(import.meta.url).resolve("tsx/cli");
    const result = spawnSync(process.execPath, [tsx, "scripts/start.ts"], {
      cwd: ROOT,
      env: {
        PATH: bin,
        HOME: process.env.HOME,
        DATA_DIR: mkdtempSync(join(tmpdir(), "music-nojava-data-")),
      },
      encoding: "utf8",
      timeout: 60_000,
    });
    const output = `${result.stdout}${result.stderr}`;
    expect(result.status).toBe(1);
    expect(output).toContain("Java 17 or newer is needed to run DynamoDB Local");
    expect(output).toContain("apt-get install -y openjdk-17-jre-headless");
  }, 90_000);
});
