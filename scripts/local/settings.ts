import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { DEFAULTS } from "../../lib/config.ts";
import { localIssuerUrl } from "./issuer.ts";
import {
  DEFAULT_REFRESH_TOKEN_LIFETIMES,
  type RefreshTokenLifetimes,
} from "./oidc-issuer/options.ts";
import { ROOT } from "./serverless-config.ts";

/**
 * What `npm start` ran with, written where `npm run token` and `npm run login` look for it, so
 * they find the running stack (ports, data directory, issuer) without any variable exported.
 * LOCAL_STACK_FILE moves it; `off` (the test and load stacks) writes none.
 */
export const STACK_VARIABLES = [
  "PORT",
  "LAMBDA_PORT",
  "DYNAMODB_PORT",
  "ISSUER_PORT",
  "APP_PORT",
  "DATA_DIR",
  "AUTH_ISSUER",
  "AUTH_AUDIENCE",
  "CLAIMS_NAMESPACE",
] as const;

export function stackFile(): string | undefined {
  const setting = process.env.LOCAL_STACK_FILE;
  if (setting === "off") return undefined;
  return setting ? resolve(ROOT, setting) : join(ROOT, ".local-stack.json");
}

/** Whether a process runs with this pid (EPERM: it does, as another user). */
function alive(pid: unknown): boolean {
  if (!Number.isInteger(pid) || (pid as number) <= 0) return false;
  try {
    process.kill(pid as number, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The `npm start` that recorded itself (recordRunningStack), when its process is alive. */
export function runningStack(): { pid: number; env: Record<string, string> } | undefined {
  const file = stackFile();
  if (!file) return undefined;
  try {
    const recorded = JSON.parse(readFileSync(file, "utf8")) as {
      pid: number;
      env: Record<string, string>;
    };
    return alive(recorded.pid) ? recorded : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a variable set here names what the recorded stack runs with. */
function agrees(name: string, value: string, recorded: Record<string, string>): boolean {
  if (name === "DATA_DIR") return resolve(ROOT, value) === resolve(ROOT, recorded.DATA_DIR ?? "");
  if (name === "AUTH_ISSUER") {
    const issuer = recorded.AUTH_ISSUER ?? localIssuerUrl(Number(recorded.ISSUER_PORT));
    return sameUrl(value, issuer);
  }
  return value === recorded[name];
}

function sameUrl(a: string, b: string): boolean {
  try {
    return new URL(a).href === new URL(b).href;
  } catch {
    return false;
  }
}

/**
 * The variables of the running `npm start`, unless a stack variable set here names another
 * stack (the lines `npm run env` prints agree with it, so they keep it).
 */
function runningStackEnv(): Record<string, string> {
  const recorded = runningStack()?.env;
  if (!recorded) return {};
  const set = STACK_VARIABLES.filter((name) => process.env[name]);
  return set.every((name) => agrees(name, process.env[name] as string, recorded)) ? recorded : {};
}

type Env = Record<string, string | undefined>;

function port(env: Env, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new Error(`${name} must be a TCP port (1-65535), got "${text}"`);
  }
  return value;
}

function seconds(env: Env, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`${name} must be a whole number of seconds (at least 1), got "${text}"`);
  }
  return value;
}

/** The local tenant's refresh-token lifetimes; as Auth0, the idle one may not exceed the other. */
function refreshTokenLifetimes(env: Env): RefreshTokenLifetimes {
  const lifetimes = {
    idleSeconds: seconds(
      env,
      "REFRESH_TOKEN_IDLE_SECONDS",
      DEFAULT_REFRESH_TOKEN_LIFETIMES.idleSeconds,
    ),
    absoluteSeconds: seconds(
      env,
      "REFRESH_TOKEN_LIFETIME_SECONDS",
      DEFAULT_REFRESH_TOKEN_LIFETIMES.absoluteSeconds,
    ),
  };
  if (lifetimes.idleSeconds > lifetimes.absoluteSeconds) {
    throw new Error(
      `REFRESH_TOKEN_IDLE_SECONDS (${lifetimes.idleSeconds}) must not exceed REFRESH_TOKEN_LIFETIME_SECONDS (${lifetimes.absoluteSeconds})`,
    );
  }
  return lifetimes;
}

/** The local stack's settings: the contract's variables with their local defaults. */
export function localSettings() {
  const env: Env = { ...runningStackEnv(), ...process.env };
  const dataDir = resolve(ROOT, env.DATA_DIR || ".data");
  const issuerPort = port(env, "ISSUER_PORT", 3003);
  // AUTH_ISSUER naming the local tenant itself (as `npm run env` exports it) is not external.
  const externalIssuer =
    env.AUTH_ISSUER && !sameUrl(env.AUTH_ISSUER, localIssuerUrl(issuerPort))
      ? env.AUTH_ISSUER
      : undefined;
  return {
    port: port(env, "PORT", 3000),
    lambdaPort: port(env, "LAMBDA_PORT", 3002),
    dynamodbPort: port(env, "DYNAMODB_PORT", 8000),
    /** A DynamoDB already running (or a proxy in front of one): then no DynamoDB Local starts. */
    externalDynamodb: process.env.EXTERNAL_DYNAMODB_ENDPOINT || undefined,
    issuerPort,
    appPort: port(env, "APP_PORT", 3004),
    dataDir,
    /** Set when AUTH_ISSUER names a real issuer: then no local issuer runs. */
    externalIssuer,
    authIssuer: externalIssuer ?? localIssuerUrl(issuerPort),
    authAudience: env.AUTH_AUDIENCE || "https://api.music.local",
    claimsNamespace: env.CLAIMS_NAMESPACE || DEFAULTS.claimsNamespace,
    refreshTokens: refreshTokenLifetimes(env),
    /**
     * The Action's secret TRIM_AUTH0_METADATA on the local tenant: moved user_metadata keys
     * leave the tenant's user unless TRIM_AUTH0_METADATA=false.
     */
    trimAuth0Metadata: env.TRIM_AUTH0_METADATA !== "false",
  };
}

/** Records the running stack's variables for token and login; answers how to forget them. */
export function recordRunningStack(settings: ReturnType<typeof localSettings>): () => void {
  const file = stackFile();
  if (!file) return () => undefined;
  const recorded = {
    PORT: String(settings.port),
    LAMBDA_PORT: String(settings.lambdaPort),
    DYNAMODB_PORT: String(settings.dynamodbPort),
    ISSUER_PORT: String(settings.issuerPort),
    APP_PORT: String(settings.appPort),
    DATA_DIR: settings.dataDir,
    ...(settings.externalIssuer ? { AUTH_ISSUER: settings.externalIssuer } : {}),
    AUTH_AUDIENCE: settings.authAudience,
    CLAIMS_NAMESPACE: settings.claimsNamespace,
  };
  writeFileSync(file, JSON.stringify({ pid: process.pid, env: recorded }, null, 2));
  return () => {
    try {
      const current = JSON.parse(readFileSync(file, "utf8")) as { pid: number };
      if (current.pid === process.pid) rmSync(file, { force: true });
    } catch {
      // already gone
    }
  };
}

/** A random secret kept under DATA_DIR, so local cursors stay valid across restarts. */
export function localSecret(dataDir: string, name: string): string {
  const file = join(dataDir, `${name}.secret`);
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    mkdirSync(dataDir, { recursive: true });
    const secret = randomBytes(32).toString("base64url");
    writeFileSync(file, secret, { mode: 0o600 });
    return secret;
  }
}

/**
 * The shell lines that give another shell this stack's variables, so that `npm run token`,
 * `npm run login` and `npx serverless invoke local` (the functions' environment) all reach it.
 * The cursor secret is never printed: a CURSOR_SECRET of this shell (given to npm start) wins,
 * else it is read from the stack's file.
 */
export function exportLines(settings: ReturnType<typeof localSettings>): string[] {
  const quote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;
  return [
    `export PORT=${settings.port} LAMBDA_PORT=${settings.lambdaPort} DYNAMODB_PORT=${settings.dynamodbPort} ISSUER_PORT=${settings.issuerPort} APP_PORT=${settings.appPort}`,
    `export DATA_DIR=${quote(settings.dataDir)} AUTH_ISSUER=${quote(settings.authIssuer)} AUTH_AUDIENCE=${quote(settings.authAudience)} CLAIMS_NAMESPACE=${quote(settings.claimsNamespace)}`,
    `export DYNAMODB_ENDPOINT=http://127.0.0.1:${settings.dynamodbPort} CURSOR_SECRET="\${CURSOR_SECRET:-$(cat ${quote(join(settings.dataDir, "cursor.secret"))})}"`,
  ];
}
