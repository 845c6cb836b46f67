import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { loadOrCreateLocalClient, loadOrCreateSigningKey, signAccessToken } from "./issuer.ts";
import { freePort } from "./ports.ts";
import { ROOT } from "./serverless-config.ts";

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Signals process group `pgid`; one that ended meanwhile is no error. */
function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

export interface RunningStack {
  baseUrl: string;
  issuerPort: string;
  dynamodbPort: number;
  lambdaUrl: string;
  /** The sample web app. */
  appUrl: string;
  dataDir: string;
  /** The `npm start` process itself (npm's pid). */
  pid: number;
  /** Output so far, to explain a failure. */
  output(): string;
  /** Ctrl-C in its terminal: SIGINT to npm's process group; resolves once `npm start` exited. */
  interrupt(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Variables that give a stack its own local Auth0 tenant, whatever issuer this process was given
 * (the test setup exports its own): empty means the local default.
 */
export const LOCAL_TENANT = { AUTH_ISSUER: "", AUTH_AUDIENCE: "", AUTH_JWKS_URI: "" };

/**
 * Starts the real `npm start` (scripts/start.ts) on free ports, as a developer would, and waits
 * until it serves HTTP. `env` chooses the issuer; `dataDir` lets a test restart on the same data.
 */
export async function startStack(
  env: Record<string, string>,
  dataDir?: string,
): Promise<RunningStack> {
  const [port, lambdaPort, dynamodbPort, issuerPort, appPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), "music-e2e-"));
  const stackEnv: Record<string, string | undefined> = {
    ...process.env,
    PORT: String(port),
    LAMBDA_PORT: String(lambdaPort),
    DYNAMODB_PORT: String(dynamodbPort),
    ISSUER_PORT: String(issuerPort),
    APP_PORT: String(appPort),
    DATA_DIR: dir,
    // The stack under test gets its own DynamoDB; never the integration tests' one.
    DYNAMODB_ENDPOINT: "",
    // A developer's own `npm start` keeps its record: test stacks write none (unless asked).
    LOCAL_STACK_FILE: "off",
    // Test and load stacks send bursts far past a person's rate, unless a test asks for limits.
    USER_READS_PER_SECOND: "100000",
    USER_WRITES_PER_SECOND: "100000",
    USER_READ_UNITS_PER_SECOND: "100000",
    USER_WRITE_UNITS_PER_SECOND: "100000",
    ...env,
  };
  const child: ChildProcess = spawn("npm", ["start", "--silent"], {
    cwd: ROOT,
    env: stackEnv,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let serving = false;
  // A stack that dies under its tests says why, where the failing tests' report shows it (one
  // that never got ready throws with its output below).
  child.once("exit", (code, signal) => {
    if (serving) console.error(`npm start exited (${code ?? signal}) before stop():\n${output}`);
  });
  // The ports the stack was given: `env` may name its own (a restart on the same ports).
  const baseUrl = `http://127.0.0.1:${stackEnv.PORT}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`npm start exited (${child.exitCode}):\n${output}`);
    if (output.includes("[start] ready")) {
      serving = true;
      break;
    }
    if (Date.now() > deadline) {
      process.kill(-(child.pid as number), "SIGKILL");
      throw new Error(`npm start did not serve within 120 s:\n${output}`);
    }
    await sleep(200);
  }
  return {
    baseUrl,
    issuerPort: stackEnv.ISSUER_PORT as string,
    dynamodbPort: Number(stackEnv.DYNAMODB_PORT),
    lambdaUrl: `http://127.0.0.1:${stackEnv.LAMBDA_PORT}`,
    appUrl: `http://127.0.0.1:${stackEnv.APP_PORT}`,
    dataDir: dir,
    pid: child.pid as number,
    output: () => output,
    async interrupt() {
      serving = false;
      if (child.exitCode === null) signalGroup(child.pid as number, "SIGINT");
      await exited;
    },
    async stop() {
      serving = false;
      if (child.exitCode !== null && !groupAlive(child.pid as number)) return;
      // SIGTERM to npm's whole group, as a terminal's Ctrl-C would; start.ts stops its children.
      signalGroup(child.pid as number, "SIGTERM");
      const done = await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)]);
      if (!done) signalGroup(child.pid as number, "SIGKILL");
      await exited;
      // npm may exit before its children: wait until the whole process group is gone.
      const groupDeadline = Date.now() + 15_000;
      while (groupAlive(child.pid as number) && Date.now() < groupDeadline) await sleep(100);
    },
  };
}

/** An access token for `sub` from a running stack's own local tenant (its key in DATA_DIR). */
export async function stackToken(
  stack: Pick<RunningStack, "dataDir" | "issuerPort">,
  sub: string,
  expiresInSeconds?: number,
): Promise<string> {
  return signAccessToken(await loadOrCreateSigningKey(stack.dataDir), {
    issuer: `http://127.0.0.1:${stack.issuerPort}/`,
    audience: "https://api.music.local",
    sub,
    expiresInSeconds,
  });
}

/** A client-credentials grant at the stack's local tenant, as a machine asks it (the answer). */
export function clientCredentials(
  stack: Pick<RunningStack, "issuerPort">,
  client: { clientId: string; clientSecret: string },
  audience: string,
): Promise<Response> {
  return fetch(`http://127.0.0.1:${stack.issuerPort}/oauth/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      grant_type: "client_credentials",
      client_id: client.clientId,
      client_secret: client.clientSecret,
      audience,
    }),
  });
}

/**
 * The stack's local tenant's client-credentials token for the post-login hook, as the Action
 * gets it (its client's id and secret, `run:post_login`).
 */
export async function stackHookToken(
  stack: Pick<RunningStack, "dataDir" | "issuerPort">,
): Promise<string> {
  const client = loadOrCreateLocalClient(stack.dataDir);
  const response = await clientCredentials(stack, client, "https://api.music.local");
  return ((await response.json()) as { access_token: string }).access_token;
}

/** `npm run login -- USER_ID` against the stack, as a reader's shell runs it: the token it prints. */
export async function stackLogin(
  stack: Pick<RunningStack, "dataDir" | "issuerPort" | "baseUrl">,
  userId: string,
): Promise<string> {
  const { stdout } = await promisify(execFile)("npm", ["run", "-s", "login", "--", userId], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATA_DIR: stack.dataDir,
      PORT: new URL(stack.baseUrl).port,
      ISSUER_PORT: stack.issuerPort,
      ...LOCAL_TENANT,
    },
  });
  return stdout.trim();
}

/** `count` CPU-bound processes beside the stack, as a build would be; answers how to stop them. */
export function startBusyLoops(count: number): () => void {
  const loops = Array.from({ length: count }, () =>
    spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" }),
  );
  return () => {
    for (const loop of loops) loop.kill("SIGKILL");
  };
}
