import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../../scripts/local/serverless-config.ts";

/**
 * `npm run reset` empties DATA_DIR, and refuses while the `npm start` recorded in the stack file
 * (LOCAL_STACK_FILE here, .local-stack.json by default) is alive on that directory.
 */
const run = promisify(execFile);

async function reset(env: Record<string, string>) {
  return run("npm", ["run", "-s", "reset"], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    timeout: 60_000,
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
}

/** A DATA_DIR as npm start leaves it, and a stack file of its own. */
function dataDir() {
  const dir = mkdtempSync(join(tmpdir(), "music-reset-"));
  const data = join(dir, "data");
  mkdirSync(join(data, "dynamodb"), { recursive: true });
  mkdirSync(join(data, "issuer"));
  writeFileSync(join(data, "dynamodb", "shared-local-instance.db"), "tables");
  writeFileSync(join(data, "issuer", "signing-key.json"), "{}");
  writeFileSync(join(data, "cursor.secret"), "secret");
  return { data, stackFile: join(dir, "local-stack.json") };
}

const recordStack = (file: string, pid: number, data: string) =>
  writeFileSync(file, JSON.stringify({ pid, env: { DATA_DIR: data } }));

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""]);
  await new Promise((resolve) => child.once("exit", resolve));
  return child.pid as number;
}

describe("npm run reset", () => {
  it("empties DATA_DIR and keeps the directory", async () => {
    const { data, stackFile } = dataDir();
    const result = await reset({ DATA_DIR: data, LOCAL_STACK_FILE: stackFile });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("emptied");
    expect(readdirSync(data)).toEqual([]);
  });

  it("refuses while npm start runs on that DATA_DIR, and removes nothing", async () => {
    const { data, stackFile } = dataDir();
    // This test's own process stands for the running stack: alive, and stopped by nothing.
    recordStack(stackFile, process.pid, data);
    const result = await reset({ DATA_DIR: data, LOCAL_STACK_FILE: stackFile });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`npm start (pid ${process.pid}) is running on ${data}`);
    expect(result.stderr).toContain("stop it first");
    expect(readdirSync(data).sort()).toEqual(["cursor.secret", "dynamodb", "issuer"]);
  });

  it("empties DATA_DIR when the recorded stack has exited, or runs on another one", async () => {
    const { data, stackFile } = dataDir();
    recordStack(stackFile, await deadPid(), data);
    expect((await reset({ DATA_DIR: data, LOCAL_STACK_FILE: stackFile })).code).toBe(0);
    expect(readdirSync(data)).toEqual([]);
    const other = dataDir();
    recordStack(stackFile, process.pid, other.data);
    const { data: mine } = dataDir();
    expect((await reset({ DATA_DIR: mine, LOCAL_STACK_FILE: stackFile })).code).toBe(0);
    expect(readdirSync(mine)).toEqual([]);
    expect(readdirSync(other.data).length).toBe(3);
  });

  it("refuses a DATA_DIR that holds a project, and removes nothing", async () => {
    const { data, stackFile } = dataDir();
    writeFileSync(join(data, "package.json"), "{}");
    const result = await reset({ DATA_DIR: data, LOCAL_STACK_FILE: stackFile });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("not emptied");
    expect(existsSync(join(data, "cursor.secret"))).toBe(true);
  });

  it("answers --help with its usage", async () => {
    const result = await run("npm", ["run", "-s", "reset", "--", "--help"], { cwd: ROOT });
    expect(result.stdout).toContain("usage: npm run reset");
  });
});
