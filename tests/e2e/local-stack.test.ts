import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { request } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { freePort } from "../../scripts/local/ports.ts";
import { ROOT } from "../../scripts/local/serverless-config.ts";
import { STACK_VARIABLES } from "../../scripts/local/settings.ts";
import {
  LOCAL_TENANT,
  type RunningStack,
  stackToken,
  startStack,
} from "../../scripts/local/stack.ts";
import { call } from "../helpers/http.ts";
import { isLoopback, listeningSockets } from "../helpers/listening.ts";

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
  }, 180_000);
});

describe("npm start on a laptop without a firewall", () => {
  it("listens on loopback only, every process of it: the API, the Invoke API, the tenant, the app and DynamoDB Local's jar", async () => {
    const stack = await startStack(LOCAL_TENANT);
    try {
      const sockets = listeningSockets(stack.pid);
      const ports = new Set(sockets.map(({ port }) => port));
      // The stack's sockets were found: every port it was given...
      for (const url of [stack.baseUrl, stack.lambdaUrl, stack.appUrl])
        expect(ports).toContain(Number(new URL(url).port));
      expect(ports).toContain(stack.dynamodbPort);
      expect(ports).toContain(Number(stack.issuerPort));
      // ...and the jar's own, which the guard on DYNAMODB_PORT passes requests to.
      expect(sockets.filter(({ command }) => command === "java").length).toBeGreaterThan(0);
      expect(sockets.filter(({ address }) => !isLoopback(address))).toEqual([]);
    } finally {
      await stack.stop();
    }
  }, 180_000);
});

describe("Ctrl-C on npm start while requests run", () => {
  it("leaves nothing behind once npm start exits, a stuck server included: npm start again on the same ports serves", async () => {
    const first = await startStack(LOCAL_TENANT);
    const portOf = (url: string) => new URL(url).port;
    const samePorts = {
      PORT: portOf(first.baseUrl),
      LAMBDA_PORT: portOf(first.lambdaUrl),
      DYNAMODB_PORT: String(first.dynamodbPort),
      ISSUER_PORT: first.issuerPort,
      APP_PORT: portOf(first.appUrl),
    };
    let second: RunningStack | undefined;
    let offline: number | undefined;
    try {
      const token = await stackToken(first, "google-oauth2|interrupted");
      // More requests than the workers serve at once: many are queued or running at Ctrl-C.
      const burst = Array.from({ length: 80 }, (_, i) =>
        fetch(`${first.baseUrl}/songs`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ songName: `song ${i}`, genre: "jazz" }),
        })
          .then((response) => response.arrayBuffer())
          .catch(() => undefined),
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
      // The offline server stuck mid-burst, deaf to the SIGTERM it is sent (as one seen holding
      // PORT and LAMBDA_PORT for over a minute): stopping must not depend on its cooperation.
      offline = listeningSockets(first.pid).find(
        ({ port }) => port === Number(samePorts.PORT),
      )?.pid;
      expect(offline).toBeDefined();
      process.kill(offline as number, "SIGSTOP");
      await first.interrupt();
      // As a developer would, at once: the ports must be free, the new stack must serve.
      second = await startStack({ ...LOCAL_TENANT, ...samePorts }, first.dataDir);
      const answer = await call(second.baseUrl, "GET", "/displayName", {
        token: await stackToken(second, "google-oauth2|interrupted"),
      });
      expect(answer.status).toBe(200);
      await Promise.all(burst);
    } finally {
      await second?.stop();
      await first.stop();
      // Left behind (in its own process group) when npm start did not kill it.
      try {
        if (offline) process.kill(offline, "SIGKILL");
      } catch {
        // gone, as it should be
      }
    }
  }, 300_000);
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
  it("runs the ESM bundle of a function from a shell given the stack's variables by npm run env, where npm run token works too", async () => {
    const record = join(mkdtempSync(join(tmpdir(), "music-stack-file-")), "stack.json");
    // The stack keeps its own cursor secret in DATA_DIR, as with nothing exported.
    const stack = await startStack({
      ...LOCAL_TENANT,
      LOCAL_STACK_FILE: record,
      CURSOR_SECRET: "",
    });
    // A build folder of its own, so that nothing else building in this checkout is disturbed.
    const workFolder = `.esbuild-offline/invoke-${process.pid}`;
    // A developer's shell: none of the stack's variables (nor the test setup's), only its record.
    const shell: Record<string, string | undefined> = {
      ...process.env,
      LOCAL_STACK_FILE: record,
      ESBUILD_WORK_FOLDER: workFolder,
      SLS_TELEMETRY_DISABLED: "1",
    };
    for (const name of [...STACK_VARIABLES, "DYNAMODB_ENDPOINT", "CURSOR_SECRET", "AUTH_JWKS_URI"])
      delete shell[name];
    const invoke = "npx serverless invoke local -f postLogin -p events/postLogin-editor.json";
    try {
      // Without the variables: a message saying what to run, not a 500 from a function that
      // went looking for AWS credentials.
      const bare = await run("bash", ["-c", invoke], { cwd: ROOT, env: shell }).then(
        () => ({ code: 0, output: "" }),
        (error: { code: number; stdout: string; stderr: string }) => ({
          code: error.code,
          output: `${error.stdout}${error.stderr}`,
        }),
      );
      expect(bare.code).toBe(1);
      expect(bare.output).toContain('eval "$(npm run -s env)"');
      expect(bare.output).not.toContain("CredentialsProviderError");

      // docs/local-stack.md's steps, in one shell: the exports, a token, invoke local.
      const { stdout } = await run(
        "bash",
        [
          "-c",
          `set -e; eval "$(npm run -s env)"; npm run -s token -- 'google-oauth2|invoker'; ${invoke}`,
        ],
        { cwd: ROOT, env: shell },
      );
      const token = stdout.split("\n")[0] as string;
      expect((await call(stack.baseUrl, "GET", "/displayName", { token })).status).toBe(200);
      const answer = JSON.parse(stdout.slice(stdout.indexOf("{\n")));
      // The hook ran against the stack's DynamoDB: the first login of this user moved the
      // event's metadata in (a name chosen in Auth0 is kept, else the default).
      const event = JSON.parse(readFileSync(join(ROOT, "events", "postLogin-editor.json"), "utf8"));
      expect(answer.user_metadata).toEqual({
        displayName: "user",
        ...event.user.user_metadata,
      });
      expect(answer.claims["https://music.example.com/roles"]).toEqual([]);
    } finally {
      rmSync(join(ROOT, workFolder), { recursive: true, force: true });
      await stack.stop();
    }
  }, 180_000);
});

describe("npm start on a laptop", () => {
  /** A request as a page on another site could make a browser send it (fetch sets its own Host). */
  function status(
    port: number,
    init: { method?: string; headers?: Record<string, string>; path?: string; body?: string },
  ) {
    return new Promise<{ status: number; body: string; allowOrigin?: string }>(
      (resolve, reject) => {
        const req = request(
          {
            host: "127.0.0.1",
            port,
            method: init.method ?? "GET",
            path: init.path ?? "/",
            headers: init.headers,
          },
          (res) => {
            let body = "";
            res.on("data", (chunk) => {
              body += chunk;
            });
            res.on("end", () =>
              resolve({
                status: res.statusCode ?? 0,
                body,
                allowOrigin: res.headers["access-control-allow-origin"] as string | undefined,
              }),
            );
          },
        );
        req.on("error", reject);
        req.end(init.body);
      },
    );
  }

  it("is ready when it says so, keeps its data private and serves no page on another site", async () => {
    const stack = await startStack(LOCAL_TENANT);
    try {
      // "ready" means the API and the app answer at once.
      expect((await fetch(`${stack.baseUrl}/openapi.json`)).status).toBe(200);
      expect((await fetch(`${stack.appUrl}/`)).status).toBe(200);
      expect(statSync(stack.dataDir).mode & 0o777).toBe(0o700);
      // One block names every address, the invoke endpoint by the functions' real names; no
      // banner line points at an invoke URL that answers 404.
      const said = stack.output();
      expect(said).toContain(`Lambda Invoke API  ${stack.lambdaUrl}`);
      expect(said).toContain(
        `${stack.lambdaUrl}/2015-03-31/functions/music-user-data-dev-postLogin/invocations`,
      );
      expect(said).not.toContain(`${stack.baseUrl}/2015-03-31/functions/`);
      // An unrecorded stack prints the export lines themselves (npm run env prints a recorded one's).
      expect(said).toContain(`ISSUER_PORT=${stack.issuerPort} APP_PORT=`);
      expect(said).toContain(`export DYNAMODB_ENDPOINT=http://127.0.0.1:${stack.dynamodbPort}`);
      // Node 20 (past its end of life) is named once, in one line; Node 22 and 24 get no line.
      const notices = said.match(/past its end of life.*install Node 24 LTS/g) ?? [];
      expect(notices).toHaveLength(Number(process.versions.node.split(".")[0]) < 22 ? 1 : 0);
      expect(said).not.toContain("Unsupported runtime");

      const rebound = { host: "rebind.evil.example" };
      const listTables = {
        method: "POST",
        headers: {
          "content-type": "application/x-amz-json-1.0",
          "x-amz-target": "DynamoDB_20120810.ListTables",
          authorization:
            "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
        },
        body: "{}",
      };
      const dynamo = await status(stack.dynamodbPort, {
        ...listTables,
        headers: { ...listTables.headers, ...rebound },
      });
      expect(dynamo.status).toBe(403);
      expect(dynamo.body).not.toContain("TableNames");
      const fromPage = await status(stack.dynamodbPort, {
        ...listTables,
        headers: { ...listTables.headers, origin: "https://evil.example" },
      });
      expect(fromPage.status).toBe(403);

      const lambdaPort = Number(new URL(stack.lambdaUrl).port);
      const hook = await status(lambdaPort, {
        method: "POST",
        path: "/2015-03-31/functions/music-user-data-dev-postLogin/invocations",
        headers: { origin: "https://evil.example", "content-type": "text/plain" },
        body: JSON.stringify({
          user: { user_id: "auth0|victim", email: "v@example.com", name: "V" },
        }),
      });
      expect(hook.status).toBe(403);
      expect(hook.allowOrigin).toBeUndefined();
      expect(hook.body).not.toContain("user_metadata");

      for (const port of [
        Number(new URL(stack.baseUrl).port),
        lambdaPort,
        Number(stack.issuerPort),
        Number(new URL(stack.appUrl).port),
      ]) {
        expect((await status(port, { headers: rebound, path: "/" })).status, `port ${port}`).toBe(
          403,
        );
      }
    } finally {
      await stack.stop();
    }
  }, 180_000);

  it("leaves a running stack's record alone when a second start fails on a busy port", async () => {
    const record = join(mkdtempSync(join(tmpdir(), "music-stack-file-")), "stack.json");
    const stack = await startStack({ ...LOCAL_TENANT, LOCAL_STACK_FILE: record });
    try {
      const before = readFileSync(record, "utf8");
      const [dynamodbPort, issuerPort, appPort, lambdaPort] = await Promise.all([
        freePort(),
        freePort(),
        freePort(),
        freePort(),
      ]);
      const second = spawn("npm", ["start", "--silent"], {
        cwd: ROOT,
        env: {
          ...process.env,
          ...LOCAL_TENANT,
          LOCAL_STACK_FILE: record,
          PORT: new URL(stack.baseUrl).port,
          LAMBDA_PORT: String(lambdaPort),
          DYNAMODB_PORT: String(dynamodbPort),
          ISSUER_PORT: String(issuerPort),
          APP_PORT: String(appPort),
          DATA_DIR: mkdtempSync(join(tmpdir(), "music-e2e-")),
          DYNAMODB_ENDPOINT: "",
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let said = "";
      second.stdout?.on("data", (chunk) => {
        said += chunk;
      });
      second.stderr?.on("data", (chunk) => {
        said += chunk;
      });
      const code = await new Promise<number | null>((resolve) => second.once("exit", resolve));
      expect(code).not.toBe(0);
      expect(said).toContain(`port ${new URL(stack.baseUrl).port} (PORT) is in use`);
      expect(readFileSync(record, "utf8")).toBe(before);
      expect((await fetch(`${stack.baseUrl}/openapi.json`)).status).toBe(200);
    } finally {
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
