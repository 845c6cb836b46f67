import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ROOT, SERVERLESS_BIN } from "../../scripts/local/serverless-config.ts";
import { localSecret, STACK_VARIABLES } from "../../scripts/local/settings.ts";
import { LOCAL_TENANT, startStack } from "../../scripts/local/stack.ts";
import { call } from "../helpers/http.ts";

const run = promisify(execFile);

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** `npm start` with no AUTH_ISSUER: the bundled issuer, data kept under DATA_DIR. */
describe("npm start with the local issuer", () => {
  it("serves a token from `npm run token`, refuses a forged one, keeps data across a restart and leaves no process behind", async () => {
    let stack = await startStack(LOCAL_TENANT);
    const { dataDir } = stack;

    const tokenFrom = async (sub: string) => {
      const { stdout } = await run("npm", ["run", "-s", "token", "--", sub], {
        cwd: ROOT,
        env: {
          ...process.env,
          DATA_DIR: dataDir,
          ...LOCAL_TENANT,
          ISSUER_PORT: stack.issuerPort,
        },
      });
      return stdout.trim();
    };
    try {
      const token = await tokenFrom("google-oauth2|123");
      expect(token.split(".")).toHaveLength(3);
      const put = await call(stack.baseUrl, "PUT", "/displayName", {
        token,
        body: { displayName: "Kept" },
      });
      expect(put).toMatchObject({ status: 200, body: { displayName: "Kept" } });

      // Flip one character of the signature: a forged token.
      const last = token.at(-2) === "A" ? "B" : "A";
      const forged = `${token.slice(0, -2)}${last}${token.at(-1)}`;
      const refused = await call(stack.baseUrl, "GET", "/displayName", { token: forged });
      expect(refused.status).toBe(401);
      expect(refused.headers.get("www-authenticate")).toContain("invalid_token");

      await stack.stop();
      expect(await portAnswers(stack.dynamodbPort)).toBe(false);
      expect(await portAnswers(Number(new URL(stack.baseUrl).port))).toBe(false);

      stack = await startStack({ ...LOCAL_TENANT, ISSUER_PORT: stack.issuerPort }, dataDir);
      // The same key (kept under DATA_DIR) still signs; the same name is still stored.
      const again = await call(stack.baseUrl, "GET", "/displayName", {
        token: await tokenFrom("google-oauth2|123"),
      });
      expect(again).toMatchObject({ status: 200, body: { displayName: "Kept" } });
    } finally {
      await stack.stop();
    }
    expect(await portAnswers(stack.dynamodbPort)).toBe(false);
  });
});

describe("npm run token and npm run login next to a running npm start", () => {
  it("find it (ports, data directory, issuer) with no variable exported", async () => {
    const record = join(mkdtempSync(join(tmpdir(), "music-stack-file-")), "stack.json");
    const stack = await startStack({ ...LOCAL_TENANT, LOCAL_STACK_FILE: record });
    // A developer's shell: none of the stack's variables, only where its record is.
    const shell: Record<string, string | undefined> = { ...process.env, LOCAL_STACK_FILE: record };
    for (const name of STACK_VARIABLES) delete shell[name];
    try {
      const token = (
        await run("npm", ["run", "-s", "token", "--", "google-oauth2|shell"], {
          cwd: ROOT,
          env: shell,
        })
      ).stdout.trim();
      expect((await call(stack.baseUrl, "GET", "/displayName", { token })).status).toBe(200);
      const login = (
        await run("npm", ["run", "-s", "login", "--", "google-oauth2|shell", "-v"], {
          cwd: ROOT,
          env: shell,
        })
      ).stderr;
      // The claims came from the stack's hook: the Action reached it on the recorded port.
      expect(login).toContain("https://music.example.com/roles");
    } finally {
      await stack.stop();
    }
    // Stopped, the stack takes its record away.
    expect(existsSync(record)).toBe(false);
  }, 180_000);
});

describe("serverless invoke local next to a running npm start", () => {
  it("runs the ESM bundle of a function with an event from events/, as the README shows", async () => {
    const stack = await startStack(LOCAL_TENANT);
    // A build folder of its own, so that nothing else building in this checkout is disturbed.
    const workFolder = `.esbuild-offline/invoke-${process.pid}`;
    try {
      const { stdout } = await run(
        process.execPath,
        [
          SERVERLESS_BIN,
          "invoke",
          "local",
          "-f",
          "postLogin",
          "-p",
          "events/postLogin-editor.json",
        ],
        {
          cwd: ROOT,
          env: {
            ...process.env,
            AUTH_ISSUER: `http://127.0.0.1:${stack.issuerPort}/`,
            CURSOR_SECRET: localSecret(stack.dataDir, "cursor"),
            DYNAMODB_ENDPOINT: `http://127.0.0.1:${stack.dynamodbPort}`,
            ESBUILD_WORK_FOLDER: workFolder,
            SLS_TELEMETRY_DISABLED: "1",
          },
        },
      );
      const answer = JSON.parse(stdout.slice(stdout.indexOf("{\n")));
      // The hook ran against the stack's DynamoDB: the first login of this user got the default.
      expect(answer.user_metadata).toEqual({ displayName: "user" });
      expect(answer.claims["https://music.example.com/roles"]).toEqual([]);
    } finally {
      rmSync(join(ROOT, workFolder), { recursive: true, force: true });
      await stack.stop();
    }
  }, 180_000);
});

describe("stopping npm start", () => {
  it("stops every child when only the npm process gets SIGTERM", async () => {
    const stack = await startStack(LOCAL_TENANT);
    const ports = [
      Number(new URL(stack.baseUrl).port),
      stack.dynamodbPort,
      Number(stack.issuerPort),
      Number(new URL(stack.appUrl).port),
    ];
    try {
      expect(await portAnswers(ports[0] as number)).toBe(true);
      // What a process manager does: SIGTERM to the process it started, not to its group.
      process.kill(stack.pid, "SIGTERM");
      const deadline = Date.now() + 20_000;
      let open = ports;
      while (open.length > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        const answers = await Promise.all(open.map(portAnswers));
        open = open.filter((_, i) => answers[i]);
      }
      expect(open).toEqual([]);
    } finally {
      await stack.stop();
    }
  }, 120_000);
});
