/**
 * The local Lambda emulation fails as AWS does (patches/serverless-offline+14.8.2.patch): a
 * function that throws, crashes, times out, loads slowly, is throttled or finds no free worker
 * answers what API Gateway's HTTP API answers, never a 200 and never a stack trace. Runs the
 * functions of tests/fixtures/offline-faults under `serverless offline`, bundled by esbuild.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/local/ports.ts";
import { ROOT, SERVERLESS_BIN } from "../../scripts/local/serverless-config.ts";

const FIXTURE = join(ROOT, "tests/fixtures/offline-faults");

let dir: string;
let offline: ChildProcess;
let output = "";
let baseUrl: string;
let lambdaUrl: string;

/** A request naming another Host than the one dialled (fetch keeps its own Host header). */
function statusWithHost(url: string, host: string, method = "GET"): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end(method === "POST" ? "{}" : undefined);
  });
}

async function get(path: string, headers: Record<string, string> = {}) {
  const started = Date.now();
  const response = await fetch(`${baseUrl}${path}`, { headers });
  const text = await response.text();
  return { status: response.status, text, headers: response.headers, ms: Date.now() - started };
}

/** No stack frame, file path or error class in what a client receives. */
function expectNoInternals(text: string): void {
  expect(text).not.toMatch(/stackTrace|errorType|at .*\(|\.ts:\d|\.js:\d|secret internals/);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "offline-faults-"));
  copyFileSync(join(FIXTURE, "serverless.yml"), join(dir, "serverless.yml"));
  writeFileSync(join(dir, "broken.zip"), "not a zip archive");
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  await build({
    entryPoints: [join(FIXTURE, "handlers.ts"), join(FIXTURE, "slow-init.ts")],
    outdir: join(dir, "build"),
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    outExtension: { ".js": ".mjs" },
    // As serverless.yml builds the functions: the ESM builds of dependencies (the SDK's CommonJS
    // one would require() Node's modules, which an ES module cannot).
    mainFields: ["module", "main"],
    logLevel: "silent",
  });
  const [httpPort, lambdaPort] = await Promise.all([freePort(), freePort()]);
  baseUrl = `http://127.0.0.1:${httpPort}`;
  lambdaUrl = `http://127.0.0.1:${lambdaPort}`;
  offline = spawn(
    process.execPath,
    [
      SERVERLESS_BIN,
      "offline",
      "start",
      "--host",
      "127.0.0.1",
      "--httpPort",
      String(httpPort),
      "--lambdaPort",
      String(lambdaPort),
      "--noPrependStageInUrl",
    ],
    {
      cwd: dir,
      env: { ...process.env, SLS_TELEMETRY_DISABLED: "1", AWS_REGION: "us-east-1" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    },
  );
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  offline.stdout?.on("data", collect);
  offline.stderr?.on("data", collect);
  const deadline = Date.now() + 90_000;
  while (!output.includes("Server ready")) {
    if (offline.exitCode !== null) throw new Error(`serverless offline exited:\n${output}`);
    if (Date.now() > deadline) throw new Error(`serverless offline did not start:\n${output}`);
    await sleep(200);
  }
}, 120_000);

afterAll(async () => {
  if (offline?.pid && offline.exitCode === null) {
    const exited = new Promise((resolve) => offline.once("exit", resolve));
    process.kill(-offline.pid, "SIGTERM");
    await Promise.race([exited, sleep(10_000)]);
    try {
      process.kill(-offline.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("a Lambda function that fails, under npm start's emulator", () => {
  it("that throws answers 500 as API Gateway does, without the error or a stack trace", async () => {
    const { status, text } = await get("/crash");
    expect(status).toBe(500);
    expect(JSON.parse(text)).toEqual({ message: "Internal Server Error" });
    expectNoInternals(text);
  });

  it("whose runtime exits answers 500, and the next call gets a new runtime", async () => {
    const crashed = await get("/exit");
    expect(crashed.status).toBe(500);
    expect(JSON.parse(crashed.text)).toEqual({ message: "Internal Server Error" });
    expect(crashed.ms).toBeLessThan(1_900);
    // The same function again: a fresh worker, which exits the same way rather than hanging.
    const again = await get("/exit");
    expect(again.status).toBe(500);
  });

  it("whose runtime exits while idle fails the next call at once, not at its timeout, and the one after gets a new runtime", async () => {
    expect((await get("/exit-idle")).status).toBe(200);
    // The worker's stray timer ends it between the two invocations.
    await sleep(600);
    const next = await get("/exit-idle");
    // A crashed runtime (500), not a wait for the 2 s timeout (503).
    expect(next.status).toBe(500);
    expect(JSON.parse(next.text)).toEqual({ message: "Internal Server Error" });
    expect((await get("/exit-idle")).status).toBe(200);
  });

  it("whose environment cannot be made fails its own queued call, not the one that frees the slot", async () => {
    // maxConcurrency 2: two slow calls hold both slots; the third waits, then cannot be set up.
    const [first, second, broken] = await Promise.all([
      get("/slow"),
      get("/slow"),
      sleep(300).then(() => get("/bad-env")),
    ]);
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(broken.status).toBe(500);
    expect(JSON.parse(broken.text)).toEqual({ message: "Internal Server Error" });
  }, 40_000);

  it("whose artifact cannot be extracted answers 500 each time, never leaving its instance busy", async () => {
    // reservedConcurrency 1: an instance left busy would throttle the second call (503).
    for (let i = 0; i < 2; i++) {
      const { status, text } = await get("/broken-artifact");
      expect(status).toBe(500);
      expectNoInternals(text);
    }
  });

  it("that answers an object body answers 500, not a 502 with a stack trace", async () => {
    const { status, text } = await get("/object-body");
    expect(status).toBe(500);
    expectNoInternals(text);
  });

  it("that hangs under the API's middleware answers the function's own 503 with Retry-After", async () => {
    const { status, text, headers } = await get("/hang");
    expect(status).toBe(503);
    expect(headers.get("retry-after")).toBe("1");
    expect(JSON.parse(text)).toMatchObject({ statusCode: 503, error: "Service Unavailable" });
    expectNoInternals(text);
  });

  it("that hangs with no early answer times out as 503, never 200 with Lambda's error", async () => {
    const { status, text } = await get("/hang-bare");
    expect(status).toBe(503);
    expect(JSON.parse(text)).toEqual({ message: "Service Unavailable" });
  });

  it("whose cold start is longer than its timeout still runs: init has a bound of its own", async () => {
    const { status, text } = await get("/slow-init");
    expect(status).toBe(200);
    expect(JSON.parse(text)).toEqual({ initialized: true });
  });

  it("with reserved concurrency 1 throttles a second concurrent call with 503", async () => {
    const answers = await Promise.all([get("/reserved"), get("/reserved")]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 503]);
    const throttled = answers.find((a) => a.status === 503);
    expect(JSON.parse(throttled?.text ?? "")).toEqual({ message: "Service Unavailable" });
  });

  it("with reserved concurrency 1 refuses a second concurrent direct invocation 429 with Retry-After, as Lambda's Invoke API", async () => {
    const invoke = () =>
      fetch(`${lambdaUrl}/2015-03-31/functions/offline-faults-dev-reserved/invocations`, {
        method: "POST",
        body: "{}",
      });
    const answers = await Promise.all([invoke(), invoke()]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 429]);
    const throttled = answers.find((a) => a.status === 429);
    expect(throttled?.headers.get("x-amzn-errortype")).toBe("TooManyRequestsException");
    expect(throttled?.headers.get("retry-after")).toBe("1");
  });

  it("queues calls beyond the machine's concurrency and answers each", async () => {
    // maxConcurrency 2 (fixture): six calls of 1 s run two at a time, none refused.
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 6 }, () => get("/slow")));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_900);
  });

  it("past API Gateway's 30 s integration timeout answers 504", async () => {
    const { status, text, ms } = await get("/overlong");
    expect(status).toBe(504);
    expect(JSON.parse(text)).toEqual({ message: "Gateway Timeout" });
    expect(ms).toBeLessThan(31_500);
  }, 40_000);
});

describe("the emulator's ports on loopback", () => {
  it("refuse a request naming another host (DNS rebinding)", async () => {
    expect(await statusWithHost(`${baseUrl}/ok`, "rebind.evil.example")).toBe(403);
    const invokeUrl = `${lambdaUrl}/2015-03-31/functions/offline-faults-dev-ok/invocations`;
    expect(await statusWithHost(invokeUrl, "rebind.evil.example:3002", "POST")).toBe(403);
    expect(await statusWithHost(`${baseUrl}/ok`, "localhost")).toBe(200);
    expect(await statusWithHost(invokeUrl, "127.0.0.1:3002", "POST")).toBe(200);
  });

  it("the invoke port refuses what a web page sends, and names no origin", async () => {
    const invoke = await fetch(
      `${lambdaUrl}/2015-03-31/functions/offline-faults-dev-ok/invocations`,
      {
        method: "POST",
        headers: { origin: "https://evil.example", "content-type": "text/plain" },
        body: "{}",
      },
    );
    expect(invoke.status).toBe(403);
    expect(invoke.headers.get("access-control-allow-origin")).toBeNull();
    const fromSdk = await fetch(
      `${lambdaUrl}/2015-03-31/functions/offline-faults-dev-ok/invocations`,
      {
        method: "POST",
        body: "{}",
      },
    );
    expect(fromSdk.status).toBe(200);
  });

  it("an HTTP API without CORS settings names no origin", async () => {
    const { status, headers } = await get("/ok", { origin: "https://evil.example" });
    expect(status).toBe(200);
    expect(headers.get("access-control-allow-origin")).toBeNull();
  });
});
