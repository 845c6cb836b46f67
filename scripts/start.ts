/**
 * `npm start`: the whole API on this machine. DynamoDB Local (data under DATA_DIR), the tables
 * from serverless.yml, a local Auth0 tenant (unless AUTH_ISSUER names one), the functions under
 * serverless-offline and the sample web app. Ctrl-C or SIGTERM stops every child.
 */
// First, before oidc-provider loads: its runtime warning gives way to the one line below.
import "./local/node-notice.ts";
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, mkdirSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { join, relative } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type ActionRun, runLocalLogin } from "./local/auth0-runtime.ts";
import { commandLine } from "./local/cli.ts";
import { JavaMissingError, type LocalDynamoDb, startDynamoDb } from "./local/dynamodb.ts";
import {
  forgetTenantUser,
  loadOrCreateLocalClient,
  loadOrCreateManagementClient,
  loadOrCreateSigningKey,
} from "./local/issuer.ts";
import { streamDeletion } from "./local/log-stream.ts";
import { nodeSupportNotice } from "./local/node-support.ts";
import { serveIssuer } from "./local/oidc-issuer/serve.ts";
import { portIsFree } from "./local/ports.ts";
import {
  loadServerlessConfig,
  loadTableDefinitions,
  ROOT,
  SERVERLESS_BIN,
} from "./local/serverless-config.ts";
import {
  exportLines,
  localSecret,
  localSettings,
  recordRunningStack,
  stackFile,
} from "./local/settings.ts";
import { ensureTables, localClient } from "./local/tables.ts";
import { appConfig, appFiles, appOrigins, serveApp } from "./local/web-app.ts";

commandLine(
  `usage: npm start

Serves the whole API on this machine: DynamoDB Local (data under DATA_DIR, default .data), the
tables of serverless.yml, a local Auth0 tenant (unless AUTH_ISSUER names one), the functions
under serverless-offline on PORT (3000), the Lambda Invoke API on LAMBDA_PORT (3002) and the
sample app on APP_PORT (3004). Ctrl-C or SIGTERM stops all of it. Variables: docs/local-stack.md.`,
  {},
);

// Node 20 still runs the stack: one line says what to install, instead of each library's notice.
const nodeNotice = nodeSupportNotice(process.versions.node);
if (nodeNotice) console.log(`[start] ${nodeNotice}`);
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const settings = localSettings();
// This stack's own build folder: a `serverless package` elsewhere in the checkout, which empties
// .esbuild, cannot remove what this stack's workers load.
const buildDir = join(ROOT, ".esbuild-offline", String(process.pid));
let dynamo: LocalDynamoDb | undefined;
let issuerServer: Server | undefined;
let appServer: Server | undefined;
let offline: ChildProcess | undefined;
let stopping = false;
let forgetStack: () => void = () => undefined;

function say(message: string): void {
  console.log(`[start] ${message}`);
}

let stopped: Promise<never> | undefined;

/** Stops every child, then exits; a second call (another signal) waits for the first. */
function stopAll(code: number): Promise<never> {
  stopped ??= stopChildren().then(() => process.exit(code));
  return stopped;
}

async function stopChildren(): Promise<void> {
  stopping = true;
  const offlineExited =
    offline && offline.exitCode === null
      ? new Promise((resolve) => offline?.once("exit", resolve))
      : Promise.resolve();
  if (offline?.pid && offline.exitCode === null) {
    // The offline server runs in its own process group: signal the whole group.
    try {
      process.kill(-offline.pid, "SIGTERM");
    } catch {
      offline.kill("SIGTERM");
    }
  }
  issuerServer?.close();
  issuerServer?.closeAllConnections();
  appServer?.close();
  appServer?.closeAllConnections();
  await dynamo?.stop();
  await Promise.race([offlineExited, sleep(OFFLINE_GRACE_MS)]);
  // Past its grace (or exited, leaving a child behind), what is left of its process group is
  // killed: an offline server that lingers would hold PORT and LAMBDA_PORT after we exit.
  if (offline?.pid) await killGroup(offline.pid);
  // Its build goes once nothing can write to it any more.
  rmSync(buildDir, { recursive: true, force: true });
  forgetStack();
}

/** How long serverless-offline may take to stop by itself. */
const OFFLINE_GRACE_MS = 10_000;

/** SIGKILLs process group `pgid`, and waits until none of it is left (a few seconds at most). */
async function killGroup(pgid: number): Promise<void> {
  const alive = () => {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  say("serverless-offline (or a child of it) still runs: killing it");
  try {
    process.kill(-pgid, "SIGKILL");
  } catch {
    // gone meanwhile
  }
  const deadline = Date.now() + 5_000;
  while (alive() && Date.now() < deadline) await sleep(50);
}

// npm does not pass a SIGTERM on to its script: when the process that started this one goes
// away (npm stopped), stop too, children included, instead of living on with their ports.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) void stopAll(0);
}, 500).unref();

process.on("SIGINT", () => void stopAll(0));
process.on("SIGTERM", () => void stopAll(0));

/** The client id of the sample app at the local tenant. */
const LOCAL_APP_CLIENT_ID = "local-music-app";
/** The local tenant's Native application: the iOS and Android apps (docs/deploy.md: Mobile apps). */
const LOCAL_NATIVE_CLIENT_ID = "local-music-native";
const LOCAL_NATIVE_CALLBACK = "com.example.music://callback";
const origins = appOrigins(settings.appPort);

/** The sample web app, against the local tenant, or the one AUTH_ISSUER names (APP_CLIENT_ID). */
async function startApp(): Promise<void> {
  const clientId = settings.externalIssuer ? process.env.APP_CLIENT_ID : LOCAL_APP_CLIENT_ID;
  if (!clientId) {
    say("sample app not served: set APP_CLIENT_ID to your Auth0 SPA application's client id");
    return;
  }
  const config = appConfig({
    issuer: settings.authIssuer,
    clientId,
    audience: settings.authAudience,
    apiUrl: `http://127.0.0.1:${settings.port}`,
    claimsNamespace: settings.claimsNamespace,
  });
  appServer = await serveApp(settings.appPort, config, await appFiles(config));
  say(`sample app on ${origins[0]}/`);
}

/**
 * Waits until the API answers over HTTP (`GET /health`, as a load balancer asks), so that
 * "ready" means ready: serverless-offline's own banner comes before its workers can serve.
 */
async function apiAnswers(baseUrl: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (offline?.exitCode !== null) throw new Error("serverless-offline exited while starting");
    try {
      const response = await fetch(`${baseUrl}/health`, {
        signal: AbortSignal.timeout(5_000),
      });
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the API did not answer on ${baseUrl} within 120 s`);
    await sleep(250);
  }
}

/**
 * Every port this stack needs, free before anything starts: a second `npm start` stops here,
 * before its probes could take another stack's answers for its own.
 */
async function checkPortsFree(): Promise<void> {
  const ports: [string, number][] = [
    ["PORT", settings.port],
    ["LAMBDA_PORT", settings.lambdaPort],
    ["DYNAMODB_PORT", settings.dynamodbPort],
    ["APP_PORT", settings.appPort],
    ...(settings.externalIssuer ? [] : [["ISSUER_PORT", settings.issuerPort] as [string, number]]),
  ];
  const busy: string[] = [];
  for (const [name, port] of ports) {
    if (!(await portIsFree(port))) busy.push(`${port} (${name})`);
  }
  if (busy.length) {
    throw new Error(
      `port ${busy.join(", ")} is in use, by another npm start or another program; set ${busy.length > 1 ? "those variables" : "that variable"} to free ports`,
    );
  }
}

/** Every address this stack serves, and the next commands for these ports, as one block. */
function startBlock(apiUrl: string): string {
  const config = loadServerlessConfig("dev");
  const service = config.provider.environment.SERVICE_NAME ?? "music-user-data";
  const functions = Object.keys(config.functions).map((key) => `${service}-dev-${key}`);
  const lambdaUrl = `http://127.0.0.1:${settings.lambdaPort}`;
  const hook = functions.find((name) => name.endsWith("-postLogin")) ?? functions[0];
  // npm run token finds a recorded stack by itself; invoke local (the functions' environment)
  // and an unrecorded stack need the variables, which npm run env prints for a recorded one.
  const exports = stackFile()
    ? ['    eval "$(npm run -s env)"   # this stack\'s variables, for serverless invoke local']
    : exportLines(settings).map((line) => `    ${line}`);
  return [
    "",
    `  API                ${apiUrl}   (its OpenAPI document: ${apiUrl}/openapi.json)`,
    `  Lambda Invoke API  ${lambdaUrl}   functions: ${functions.join(", ")}`,
    `  Auth0 tenant       ${settings.externalIssuer ?? settings.authIssuer}`,
    `  sample app         ${appServer ? `${origins[0]}/` : "not served (see above)"}`,
    `  DynamoDB Local     http://127.0.0.1:${settings.dynamodbPort}   (data in ${settings.dataDir})`,
    "",
    "  Next, in another shell:",
    ...exports,
    "    TOKEN=$(npm run -s token -- 'auth0|alice')",
    `    curl -s ${apiUrl}/displayName -H "Authorization: Bearer $TOKEN"`,
    `    curl -s -X POST ${lambdaUrl}/2015-03-31/functions/${hook}/invocations \\`,
    "      -H 'Content-Type: application/json' -d @events/postLogin-first-login.json",
    "    npx serverless invoke local -f postLogin -p events/postLogin-editor.json",
    "",
  ].join("\n");
}

/**
 * The Management API client account deletion uses: the one given (AUTH0_MGMT_CLIENT_ID and
 * _SECRET, for a real tenant), else the local tenant's own; none against an external issuer
 * without one (the Auth0 user is then left: docs/api.md, Data rights).
 */
function managementClient(): Record<string, string> {
  if (process.env.AUTH0_MGMT_CLIENT_ID) return {};
  if (settings.externalIssuer) return {};
  const client = loadOrCreateManagementClient(settings.dataDir);
  return { AUTH0_MGMT_CLIENT_ID: client.clientId, AUTH0_MGMT_CLIENT_SECRET: client.clientSecret };
}

/**
 * The DynamoDB the functions use: DynamoDB Local, started here with its data in DATA_DIR, or
 * the one EXTERNAL_DYNAMODB_ENDPOINT names (one already running, or a proxy in front of one, as
 * the tests that count what the tables spend use). Answers its endpoint.
 */
async function startTables(): Promise<string> {
  const external = settings.externalDynamodb;
  if (external) {
    say(`DynamoDB at ${external} (EXTERNAL_DYNAMODB_ENDPOINT)`);
    return external;
  }
  const dataPath = join(settings.dataDir, "dynamodb");
  mkdirSync(dataPath, { recursive: true });
  const local = await startDynamoDb({ port: settings.dynamodbPort, dataPath });
  dynamo = local;
  // Watched from the start: a jar that dies while the rest starts stops the stack too.
  local.process.once("exit", (code) => {
    if (!stopping) {
      say(`DynamoDB Local exited (${code}); stopping`);
      void stopAll(1);
    }
  });
  say(`DynamoDB Local on ${local.endpoint} (data in ${dataPath})`);
  return local.endpoint;
}

async function main(): Promise<void> {
  await checkPortsFree();
  const definitions = loadTableDefinitions("dev");
  // Tokens' signing key, secrets and data: the owner's only.
  mkdirSync(settings.dataDir, { recursive: true, mode: 0o700 });
  chmodSync(settings.dataDir, 0o700);

  const dynamodbEndpoint = await startTables();
  const client = localClient(dynamodbEndpoint);
  const created = await ensureTables(client, definitions);
  client.destroy();
  say(created.length ? `created tables ${created.join(", ")}` : "tables present");

  if (settings.externalIssuer) {
    say(`trusting tokens from ${settings.externalIssuer}`);
  } else {
    // Auth0's api.cache: the Action's M2M token is kept across logins.
    const actionCache: ActionRun["cache"] = new Map();
    issuerServer = await serveIssuer(settings.issuerPort, {
      issuer: settings.authIssuer,
      key: await loadOrCreateSigningKey(settings.dataDir),
      audience: settings.authAudience,
      clients: [loadOrCreateLocalClient(settings.dataDir)],
      management: {
        client: loadOrCreateManagementClient(settings.dataDir),
        forget: (userId) => forgetTenantUser(settings.dataDir, userId),
        // Auth0's log stream: the deleted user's sdu event reaches auth0LogStream.
        deleted: (userId) =>
          streamDeletion(
            `http://127.0.0.1:${settings.lambdaPort}`,
            `${loadServerlessConfig("dev").provider.environment.SERVICE_NAME ?? "music-user-data"}-dev-auth0LogStream`,
            userId,
          ),
      },
      login: {
        app: { clientId: LOCAL_APP_CLIENT_ID, origins },
        nativeApp: { clientId: LOCAL_NATIVE_CLIENT_ID, callbacks: [LOCAL_NATIVE_CALLBACK] },
        customClaims: [`${settings.claimsNamespace}roles`],
        postLogin: (user, protocol) => runLocalLogin(settings, user, actionCache, protocol),
      },
      refreshTokens: settings.refreshTokens,
    });
    say(
      `local Auth0 tenant ${settings.authIssuer} (npm run token -- <user_id>, npm run login -- <user_id>)`,
    );
  }

  offline = spawn(
    process.execPath,
    [
      SERVERLESS_BIN,
      "offline",
      "start",
      "--stage",
      "dev",
      "--host",
      "127.0.0.1",
      "--httpPort",
      String(settings.port),
      "--lambdaPort",
      String(settings.lambdaPort),
      // The gateway's JWT authorizer cannot run locally; every function verifies tokens itself.
      "--noAuth",
      "--noPrependStageInUrl",
    ],
    {
      cwd: ROOT,
      detached: true,
      stdio: "inherit",
      env: {
        ...process.env,
        SLS_TELEMETRY_DISABLED: "1",
        AUTH_ISSUER: settings.authIssuer,
        AUTH_AUDIENCE: settings.authAudience,
        CLAIMS_NAMESPACE: settings.claimsNamespace,
        CURSOR_SECRET: process.env.CURSOR_SECRET || localSecret(settings.dataDir, "cursor"),
        ...managementClient(),
        DYNAMODB_ENDPOINT: dynamodbEndpoint,
        // Browsers may call the API from the sample app's origins (set it to change that).
        CORS_ALLOWED_ORIGINS: process.env.CORS_ALLOWED_ORIGINS || origins.join(","),
        ESBUILD_WORK_FOLDER: relative(ROOT, buildDir),
      },
    },
  );
  offline.once("exit", (code) => {
    if (!stopping) {
      say(`serverless-offline exited (${code}); stopping`);
      void stopAll(code || 1);
    }
  });
  const apiUrl = `http://127.0.0.1:${settings.port}`;
  await apiAnswers(apiUrl);
  await startApp();
  // Only a stack that serves is recorded: a start that failed leaves a running one's record.
  forgetStack = recordRunningStack(settings);
  say(`ready: the API on ${apiUrl}`);
  console.log(startBlock(apiUrl));
}

main().catch(async (error: unknown) => {
  console.error(
    error instanceof JavaMissingError
      ? error.message
      : `[start] failed: ${(error as Error).message}`,
  );
  await stopAll(1);
});
