/**
 * Moving in all at once (CONTRACT: Auth0 and the store in step, `npm run import:auth0`), over
 * `npm start`: 10,000 users imported while some of them write, the import racing the post-login
 * hook, a gzipped file run twice, rule-breaking lines, a resumed run, the dry run's counts, and
 * the local tenant's own export moved in.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { BatchGetCommand, DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalDynamoDb, startDynamoDb } from "../../scripts/local/dynamodb.ts";
import { userUserMetadata } from "../../scripts/local/issuer.ts";
import { freePort } from "../../scripts/local/ports.ts";
import { loadTableDefinitions, ROOT } from "../../scripts/local/serverless-config.ts";
import {
  LOCAL_TENANT,
  type RunningStack,
  stackHookToken,
  stackToken,
  startStack,
} from "../../scripts/local/stack.ts";
import { localClient } from "../../scripts/local/tables.ts";
import { call } from "../helpers/http.ts";
import { uniqueUser } from "../helpers/tokens.ts";

let stack: RunningStack;
let profilesTable: string;
let db: DynamoDBDocumentClient;
let dir: string;
let dynamo: LocalDynamoDb;

beforeAll(async () => {
  // DynamoDB Local in memory: the same API as npm start's on disk, at twice its writes a second.
  dynamo = await startDynamoDb({ port: await freePort() });
  stack = await startStack({
    ...LOCAL_TENANT,
    PLAY_COOLDOWN_SECONDS: "0",
    EXTERNAL_DYNAMODB_ENDPOINT: dynamo.endpoint,
  });
  profilesTable = loadTableDefinitions("dev").find((d) => d.logicalId === "ProfilesTable")
    ?.properties.TableName as string;
  db = DynamoDBDocumentClient.from(localClient(dynamo.endpoint));
  dir = mkdtempSync(join(tmpdir(), "music-import-"));
});
afterAll(async () => {
  db?.destroy();
  await stack?.stop();
  await dynamo?.stop();
});

/** A shell beside the stack: its DATA_DIR and DynamoDB, no record of a running stack. */
const scriptEnv = () => ({
  ...process.env,
  ...LOCAL_TENANT,
  DATA_DIR: stack.dataDir,
  EXTERNAL_DYNAMODB_ENDPOINT: dynamo.endpoint,
  LOCAL_STACK_FILE: "off",
});

/** A command of this checkout against the test stack: its output so far, and its exit code. */
function spawnScript(command: string, args: string[]) {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: scriptEnv(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output = { stdout: "", stderr: "" };
  child.stdout.on("data", (chunk) => {
    output.stdout += chunk;
  });
  child.stderr.on("data", (chunk) => {
    output.stderr += chunk;
  });
  const exited = new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 : -1)));
  });
  return { child, output, exited };
}

/** Runs an npm script of this checkout against the test stack; answers its output and code. */
async function runScript(
  script: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const run = spawnScript("npm", ["run", "-s", script, "--", ...args]);
  const code = await run.exited;
  return { code, ...run.output };
}

const importFile = (file: string, ...options: string[]) =>
  runScript("import:auth0", [file, ...options]);

/** What one generated user holds in Auth0. */
function generated(userId: string, i: number) {
  return {
    user_id: userId,
    email: `user${i}@example.com`,
    user_metadata: { theme: i % 2 ? "dark" : "light", lang: "fr", n: i, bio: "b".repeat(200) },
    app_metadata: { plan: "pro", roles: ["admin"] },
  };
}

const ndjson = (lines: unknown[]) => `${lines.map((l) => JSON.stringify(l)).join("\n")}\n`;

/** The stored profiles of these users (consistent reads, 100 a request), by user id. */
async function stored(userIds: string[]): Promise<Map<string, Record<string, unknown>>> {
  const found = new Map<string, Record<string, unknown>>();
  for (let i = 0; i < userIds.length; i += 100) {
    const { Responses } = await db.send(
      new BatchGetCommand({
        RequestItems: {
          [profilesTable]: {
            Keys: userIds.slice(i, i + 100).map((user_id) => ({ user_id })),
            ConsistentRead: true,
          },
        },
      }),
    );
    for (const item of Responses?.[profilesTable] ?? []) found.set(item.user_id as string, item);
  }
  return found;
}

const me = (userId: string) => `/users/${encodeURIComponent(userId)}`;

describe("npm run import:auth0", { timeout: 240_000 }, () => {
  it("imports 10,000 users while some of them write: no PATCH of theirs is overwritten", async () => {
    const users = Array.from({ length: 10_000 }, () => uniqueUser("auth0"));
    const lines = users.map((userId, i) => generated(userId, i));
    // Writers spread over the file; Auth0 holds a value of the very key they write.
    const writers = users.filter((_, i) => i % 500 === 250);
    for (const userId of writers) {
      const line = lines[users.indexOf(userId)] as ReturnType<typeof generated>;
      (line.user_metadata as Record<string, unknown>).mine = "from auth0";
    }
    const file = join(dir, "ten-thousand.json");
    writeFileSync(file, ndjson(lines));
    const tokens = await Promise.all(writers.map((userId) => stackToken(stack, userId)));

    const started = performance.now();
    const running = importFile(file);
    // The writers PATCH while the import runs, spread over its first seconds.
    const patches = writers.map(async (userId, i) => {
      await new Promise((r) => setTimeout(r, 300 * i));
      return call(stack.baseUrl, "PATCH", me(userId), {
        token: tokens[i] as string,
        body: { user_metadata: { mine: "written by the user" } },
      });
    });
    const answers = await Promise.all(patches);
    const result = await running;
    const seconds = (performance.now() - started) / 1000;
    console.info(
      `import:auth0: 10,000 users in ${seconds.toFixed(1)} s (${Math.round(10_000 / seconds)} users/s, npm's start included; DynamoDB Local in memory)`,
    );
    expect(answers.map((a) => a.status)).toEqual(writers.map(() => 200));
    expect(result.code, result.stderr).toBe(0);
    const [imported, present] = (result.stdout.match(/imported (\d+), already present (\d+)/) ?? [])
      .slice(1)
      .map(Number);
    expect(result.stdout.trim()).toMatch(/^imported \d+, already present \d+, skipped 0$/);
    expect((imported ?? 0) + (present ?? 0)).toBe(10_000);
    // A writer the import reached first was imported; one who wrote first is already present.
    expect(present).toBeLessThanOrEqual(writers.length);

    const profiles = await stored(users);
    expect(profiles.size).toBe(10_000);
    for (const userId of writers) {
      const metadata = profiles.get(userId)?.user_metadata as Record<string, unknown>;
      expect(metadata.mine).toBe("written by the user");
    }
    const other = profiles.get(users[1] as string);
    expect(other?.user_metadata).toEqual(generated(users[1] as string, 1).user_metadata);
    expect(other?.app_metadata).toEqual({ plan: "pro" });
    // Stored as the profile module stores it: the per-key sizes beside the object.
    expect(other?.user_metadata_bytes).toBe(
      Buffer.byteLength(JSON.stringify(other?.user_metadata)) - 1,
    );
    expect(other?.version).toBe(1);
  });

  it("races the post-login hook for each user: one profile, the hook's and the import's alike, and the user's own write kept", async () => {
    const users = Array.from({ length: 60 }, () => uniqueUser("auth0"));
    const lines = users.map((userId, i) => generated(userId, i));
    const file = join(dir, "race.json");
    writeFileSync(file, ndjson(lines));
    // A third of them also write their own key while both run.
    const writers = new Set(users.filter((_, i) => i % 3 === 0));
    const hook = await stackHookToken(stack);
    const tokens = new Map(
      await Promise.all(
        [...writers].map(async (u) => [u, await stackToken(stack, u)] as [string, string]),
      ),
    );
    const running = importFile(file);
    const logins = users.map(async (userId, i) => {
      const line = lines[i] as ReturnType<typeof generated>;
      const token = tokens.get(userId);
      const [login] = await Promise.all([
        call(stack.baseUrl, "POST", "/hooks/post-login", {
          token: hook,
          body: {
            user: {
              user_id: userId,
              user_metadata: line.user_metadata,
              app_metadata: line.app_metadata,
            },
          },
        }),
        token
          ? call(stack.baseUrl, "PATCH", me(userId), {
              token,
              body: { user_metadata: { theme: "mine" } },
            })
          : undefined,
      ]);
      return login;
    });
    const answers = await Promise.all(logins);
    const result = await running;
    expect(result.code, result.stderr).toBe(0);
    expect(answers.map((a) => a.status)).toEqual(users.map(() => 200));

    const profiles = await stored(users);
    for (const [i, userId] of users.entries()) {
      const metadata = profiles.get(userId)?.user_metadata as Record<string, unknown>;
      const moved = generated(userId, i).user_metadata;
      if (writers.has(userId)) {
        expect(metadata.theme).toBe("mine");
        // Moved in whole (the hook or the import, before the user's write) or not at all.
        if ("bio" in metadata) {
          expect(metadata).toEqual({ ...moved, theme: "mine", displayName: "user" });
        } else {
          expect(metadata).toEqual({ theme: "mine", displayName: "user" });
        }
      } else {
        // Whichever came first, the same profile: what moved, with the login's rules on top.
        expect(metadata).toEqual({ ...moved, displayName: "user" });
        expect(profiles.get(userId)?.app_metadata).toEqual({ plan: "pro" });
        // The hook answered the profile that is stored: never one of its own beside it.
        expect(answers[i]?.body.user_metadata).toEqual(metadata);
      }
    }
  });

  it("reads a gzipped file; a rerun changes nothing; a line breaking a rule is skipped with its reason and never its value", async () => {
    const users = Array.from({ length: 200 }, () => uniqueUser("auth0"));
    const lines: unknown[] = users.map((userId, i) => generated(userId, i));
    const partly = uniqueUser("auth0");
    const wholly = uniqueUser("auth0");
    lines.push(
      { user_id: partly, user_metadata: { ok: 1, "bad.key": "SECRET-VALUE-1" } },
      { user_id: wholly, user_metadata: { $bad: "SECRET-VALUE-2" } },
    );
    const text = `${ndjson(lines)}{not json SECRET-VALUE-3\n{"email":"no-id@example.com"}\n\n`;
    const file = join(dir, "export.json.gz");
    writeFileSync(file, gzipSync(text));

    const first = await importFile(file);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout.trim()).toBe("imported 201, already present 0, skipped 3");
    expect(first.stderr).toContain(`${partly}: user_metadata.bad.key left out: `);
    expect(first.stderr).toContain(`${wholly}: user_metadata.$bad left out: `);
    expect(first.stderr).toMatch(/line 203 skipped: not JSON/);
    expect(first.stderr).toMatch(/line 204 skipped: no user_id/);
    expect(first.stderr).not.toContain("SECRET-VALUE");
    const before = await stored([...users, partly, wholly]);
    expect(before.get(partly)?.user_metadata).toEqual({ ok: 1 });
    expect(before.has(wholly)).toBe(false);

    const again = await importFile(file);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.trim()).toBe("imported 0, already present 201, skipped 3");
    expect(await stored([...users, partly, wholly])).toEqual(before);
  });

  it("resumes after the last line a run recorded as done", async () => {
    const users = Array.from({ length: 100 }, () => uniqueUser("auth0"));
    const file = join(dir, "resumed.json");
    writeFileSync(file, ndjson(users.map((userId, i) => generated(userId, i))));
    const { size, mtimeMs } = statSync(file);
    writeFileSync(
      `${file}.progress.json`,
      JSON.stringify({
        input: file,
        size,
        mtimeMs,
        line: 40,
        counts: { imported: 40, present: 0, skipped: 0 },
      }),
    );
    const result = await importFile(file);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("resuming after line 40");
    expect(result.stdout.trim()).toBe("imported 100, already present 0, skipped 0");
    const profiles = await stored(users);
    expect(users.filter((u) => profiles.has(u))).toEqual(users.slice(40));
    // Done: the progress goes, so a later run reads the whole file again (and changes nothing).
    expect(existsSync(`${file}.progress.json`)).toBe(false);
  });

  it("keeps its place when interrupted (Ctrl-C), and the next run finishes the file", async () => {
    const users = Array.from({ length: 1_000 }, () => uniqueUser("auth0"));
    const file = join(dir, "interrupted.json");
    writeFileSync(file, ndjson(users.map((userId, i) => generated(userId, i))));
    // The script's own process (not npm's), as a terminal's Ctrl-C reaches it.
    const { child, output, exited } = spawnScript(process.execPath, [
      "--import",
      "tsx",
      "scripts/import-auth0.ts",
      file,
    ]);
    // Interrupted once some of the file is done.
    const deadline = Date.now() + 60_000;
    while (!existsSync(`${file}.progress.json`) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill("SIGINT");
    expect(await exited, output.stderr).toBe(130);
    const line = Number(output.stderr.match(/resumes after line (\d+)/)?.[1]);
    expect(line).toBeGreaterThan(0);
    expect(line).toBeLessThan(1_000);
    expect(output.stdout.trim()).toMatch(/^imported \d+, already present 0, skipped 0$/);
    // Every user up to that line is stored.
    const before = await stored(users.slice(0, line));
    expect(before.size).toBe(line);

    const rest = await importFile(file);
    expect(rest.code, rest.stderr).toBe(0);
    expect(rest.stderr).toContain(`resuming after line ${line}`);
    const [imported, present] = (rest.stdout.match(/imported (\d+), already present (\d+)/) ?? [])
      .slice(1)
      .map(Number);
    // Writes in flight at the interrupt count as present now: every user once, none lost.
    expect((imported ?? 0) + (present ?? 0)).toBe(1_000);
    expect((await stored(users)).size).toBe(1_000);
    expect(existsSync(`${file}.progress.json`)).toBe(false);
  });

  it("counts in a dry run the profiles over 10 KB today and after moving, and writes nothing", async () => {
    const small = uniqueUser("auth0");
    const movable = uniqueUser("auth0");
    const stuck = uniqueUser("auth0");
    const file = join(dir, "dry.json");
    writeFileSync(
      file,
      ndjson([
        { user_id: small, user_metadata: { theme: "dark" } },
        { user_id: movable, user_metadata: { bio: "x".repeat(12_000) } },
        // Over 10 KB in app_metadata, which stays in Auth0.
        { user_id: stuck, user_metadata: { a: 1 }, app_metadata: { notes: "y".repeat(12_000) } },
      ]),
    );
    const result = await importFile(file, "--dry-run");
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe(
      "dry run: 3 users, 3 with user_metadata to move; over 10 KB: 2 today, 1 after moving",
    );
    expect((await stored([small, movable, stuck])).size).toBe(0);
  });

  it("moves the local tenant's users in from its own export", async () => {
    const users = [uniqueUser("auth0"), uniqueUser("auth0")];
    for (const [i, userId] of users.entries()) {
      userUserMetadata(stack.dataDir).merge(userId, { theme: "dark", n: i });
    }
    const file = join(dir, "tenant.json.gz");
    const exported = await runScript("export:local-tenant", [file]);
    expect(exported.code, exported.stderr).toBe(0);
    const result = await importFile(file);
    expect(result.code, result.stderr).toBe(0);
    const profiles = await stored(users);
    expect(users.map((u) => profiles.get(u)?.user_metadata)).toEqual([
      { theme: "dark", n: 0 },
      { theme: "dark", n: 1 },
    ]);
  });

  it("exits 1 on a file it cannot read", async () => {
    const missing = await importFile(join(dir, "missing.json"));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("cannot read");
    const corrupt = join(dir, "corrupt.json.gz");
    writeFileSync(corrupt, Buffer.concat([gzipSync("x".repeat(1000)).subarray(0, 20)]));
    const broken = await importFile(corrupt);
    expect(broken.code).toBe(1);
  });
});
