/**
 * The README's and docs/' shell examples run as printed (a doctest): every fenced `sh` block
 * carries a marker on the line before it,
 *
 * - `<!-- doc-test: run -->`: run against one `npm start` on free ports;
 * - `<!-- doc-test: run with aws-cli-v1 -->` (or `-v2`): run when that major of the AWS CLI is
 *   the one installed (the two differ: v1 has no `--cli-binary-format`), else held to the
 *   installed form by a check of their text;
 * - `<!-- doc-test: skip (why) -->`: not run, saying why (it needs AWS, a real Auth0 tenant, or
 *   starts a stack itself).
 *
 * The blocks of one page run in order, in one shell session as a reader's terminal would be:
 * each in its own `bash` with `set -euo pipefail`, the variables of the blocks before it kept
 * (`set -a`, then `export -p` and `declare -f` into a file the next block sources). The documented ports (3000
 * the API, 3002 the Lambda Invoke API, 3003 the local tenant, 3004 the app, 4010 Prism, also
 * as `-p 4010`) become the stack's;
 * `npm run token` and `npm run login` find it by its record (LOCAL_STACK_FILE), as they find a
 * developer's `npm start`. A block fails the test on a non-zero exit.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/local/ports.ts";
import { ROOT } from "../../scripts/local/serverless-config.ts";
import { STACK_VARIABLES } from "../../scripts/local/settings.ts";
import { LOCAL_TENANT, type RunningStack, startStack } from "../../scripts/local/stack.ts";

const run = promisify(execFile);

interface Block {
  file: string;
  line: number;
  marker: string;
  code: string;
}

const PAGES = [
  "README.md",
  ...readdirSync(join(ROOT, "docs"))
    .filter((name) => name.endsWith(".md"))
    .sort()
    .map((name) => `docs/${name}`),
];

/** Every fenced `sh` block of a page, with the marker on the line before it ("" if none). */
function blocksOf(file: string): Block[] {
  const lines = readFileSync(join(ROOT, file), "utf8").split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]?.trim() !== "```sh") continue;
    const end = lines.findIndex((line, j) => j > i && line.trim() === "```");
    if (end < 0) throw new Error(`${file}:${i + 1}: a sh block that never ends`);
    const before = lines[i - 1]?.trim() ?? "";
    const marker = /^<!-- doc-test: (.+) -->$/.exec(before)?.[1] ?? "";
    blocks.push({ file, line: i + 1, marker, code: lines.slice(i + 1, end).join("\n") });
    i = end;
  }
  return blocks;
}

const BLOCKS = PAGES.flatMap(blocksOf);
const RUN = /^run( with aws-cli-v[12])?$/;
const SKIP = /^skip \(.+\)$/;

/** The installed AWS CLI's major ("" when there is none). */
async function awsCliMajor(): Promise<string> {
  try {
    const { stdout, stderr } = await run("aws", ["--version"]);
    return /aws-cli\/(\d+)\./.exec(`${stdout}${stderr}`)?.[1] ?? "";
  } catch {
    return "";
  }
}

/** Decided before the tests are declared: a block for another CLI is not declared at all. */
const AWS_CLI = await awsCliMajor();
const cliOf = (block: Block) => /aws-cli-v(\d)/.exec(block.marker)?.[1];
/** The v1 form of a v2 command: the same, without the flag v1 does not know. */
const asV1 = (code: string) =>
  code.replace(/ --cli-binary-format raw-in-base64-out/g, "").replace(/\s*\\\n\s*/g, " ");

describe("the docs' shell blocks", () => {
  it("give each AWS CLI v2 command a v1 twin, the same but for --cli-binary-format", () => {
    const forms = (cli: string) =>
      BLOCKS.filter((b) => cliOf(b) === cli).map((b) => `${b.file}: ${asV1(b.code)}`);
    expect(forms("2").length).toBeGreaterThan(0);
    // Whichever of the two the doc test runs, the other says the same.
    expect(forms("1")).toEqual(forms("2"));
  });

  it("each says whether it runs, and the ones that do not say why", () => {
    const unmarked = BLOCKS.filter((b) => !RUN.test(b.marker) && !SKIP.test(b.marker));
    expect(unmarked.map((b) => `${b.file}:${b.line} (${b.marker || "no marker"})`)).toEqual([]);
    // The README's walk and the local stack's examples are the ones a newcomer copies.
    expect(
      BLOCKS.filter((b) => b.file === "README.md" && b.marker === "run").length,
    ).toBeGreaterThan(5);
  });
});

describe("the docs' shell blocks, run against npm start", () => {
  let stack: RunningStack;
  let work: string;
  let shell: Record<string, string | undefined>;
  let prismPort = "";

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "music-docs-"));
    const record = join(work, "stack.json");
    prismPort = String(await freePort());
    // The stack the README's walk starts: three plays earn the editor role, no cooldown; every
    // other setting at its default (the per-caller limits too), the local tenant its own.
    stack = await startStack({
      ...LOCAL_TENANT,
      LOCAL_STACK_FILE: record,
      CURSOR_SECRET: "",
      PLAYLIST_EDITOR_MIN_PLAYS: "3",
      PLAY_COOLDOWN_SECONDS: "0",
      USER_READS_PER_SECOND: "",
      USER_WRITES_PER_SECOND: "",
      USER_READ_UNITS_PER_SECOND: "",
      USER_WRITE_UNITS_PER_SECOND: "",
    });
    // A reader's shell: none of the stack's variables (nor the test setup's), only its record.
    shell = {
      ...process.env,
      LOCAL_STACK_FILE: record,
      // serverless invoke local builds here, apart from anything else building in this checkout.
      ESBUILD_WORK_FOLDER: `.esbuild-offline/docs-${process.pid}`,
      SLS_TELEMETRY_DISABLED: "1",
    };
    for (const name of [...STACK_VARIABLES, "DYNAMODB_ENDPOINT", "CURSOR_SECRET", "AUTH_JWKS_URI"])
      delete shell[name];
  });

  afterAll(async () => {
    await stack?.stop();
    rmSync(join(ROOT, `.esbuild-offline/docs-${process.pid}`), { recursive: true, force: true });
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** A block as it runs here: the documented ports are the stack's (4010, Prism's, a free one). */
  function localised(code: string): string {
    const ports: Record<string, string> = {
      "4010": prismPort,
      "3000": new URL(stack.baseUrl).port,
      "3002": new URL(stack.lambdaUrl).port,
      "3003": stack.issuerPort,
      "3004": new URL(stack.appUrl).port,
    };
    return code
      .replace(
        /\b(localhost|127\.0\.0\.1):(3000|3002|3003|3004|4010)\b/g,
        (_, host: string, port: string) => `${host}:${ports[port]}`,
      )
      .replace(/(?<= (?:-p|--port) )4010\b/g, prismPort);
  }

  for (const page of PAGES) {
    // The form of the installed AWS CLI only (neither without one); the other is held to it above.
    const blocks = BLOCKS.filter(
      (b) => b.file === page && RUN.test(b.marker) && (cliOf(b) ?? AWS_CLI) === AWS_CLI,
    );
    if (!blocks.length) continue;
    describe(page, () => {
      const state = () => join(work, `${page.replace(/\W/g, "_")}.env`);
      for (const block of blocks) {
        it(`${block.file}:${block.line} (${block.marker})`, async () => {
          const script = [
            "set -euo pipefail",
            "set -a",
            `[ -f "${state()}" ] && source "${state()}"`,
            localised(block.code),
            `{ export -p; declare -f; } > "${state()}"`,
          ].join("\n");
          const result = await run("bash", ["-c", script], {
            cwd: ROOT,
            env: shell,
            timeout: 150_000,
            maxBuffer: 16 * 1024 * 1024,
          }).then(
            ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
            (error: { code: number; stdout: string; stderr: string }) => ({
              code: error.code,
              stdout: error.stdout,
              stderr: error.stderr,
            }),
          );
          // DOCS_TEST_OUTPUT=1 shows what each block printed, to compare with the page's comments.
          if (process.env.DOCS_TEST_OUTPUT)
            console.info(`${block.file}:${block.line}\n${result.stdout}`);
          expect(
            result.code,
            `${block.file}:${block.line} exited ${result.code}\n--- stdout\n${result.stdout.slice(-4000)}\n--- stderr\n${result.stderr.slice(-4000)}`,
          ).toBe(0);
        }, 180_000);
      }
    });
  }
});
