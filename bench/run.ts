/**
 * `npm run bench`: each function as it deploys, beside the bare minimum (one JWT verified with
 * jose, one DynamoDB call): bundle size, cold import time, warm latency per route against
 * DynamoDB Local with real tokens, DynamoDB round trips per route, JWT verifications per
 * second, and getPlays with 10 and 10,000 playlists. Prints a table, writes bench/results.json.
 */
import { execFileSync, spawnSync } from "node:child_process";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { BatchWriteCommand, DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import { build } from "esbuild";
import { createLocalJWKSet, jwtVerify } from "jose";
import { startDynamoProxy } from "../scripts/local/dynamo-proxy.ts";
import { startDynamoDb } from "../scripts/local/dynamodb.ts";
import { type EventChanges, httpEvent } from "../scripts/local/events.ts";
import { createSigningKey, serveIssuer, signAccessToken } from "../scripts/local/issuer.ts";
import { freePort } from "../scripts/local/ports.ts";
import {
  loadServerlessConfig,
  loadTableDefinitions,
  ROOT,
  SERVERLESS_BIN,
} from "../scripts/local/serverless-config.ts";
import { ensureTables, localClient } from "../scripts/local/tables.ts";
import type { Work } from "./bare/replay.ts";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
const IMPORT_RUNS = Number(process.env.BENCH_IMPORT_RUNS ?? 21);
const WARM_RUNS = Number(process.env.BENCH_WARM_RUNS ?? 1000);
const work = mkdtempSync(join(tmpdir(), "music-bench-"));
const say = (message: string) => console.error(`[bench] ${message}`);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const p99 = (xs: number[]) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))] ?? 0;
const round = (x: number, digits = 2) => Number(x.toFixed(digits));

// ---- 1. The functions as they deploy, and the bare minimum with the same esbuild settings.
say("packaging the functions (serverless package)");
const packageDir = join(work, "package");
const deployEnv = {
  ...process.env,
  AUTH_ISSUER: "https://bench.example.com/",
  AUTH_AUDIENCE: "https://api.music.example.com",
  CURSOR_SECRET: "bench-cursor-secret-0123456789-0123456789",
  DYNAMODB_ENDPOINT: "",
  SLS_TELEMETRY_DISABLED: "1",
};
execFileSync(
  process.execPath,
  [SERVERLESS_BIN, "package", "--stage", "bench", "--package", packageDir],
  {
    cwd: ROOT,
    env: deployEnv,
    stdio: "ignore",
  },
);
const bundles: Record<string, string> = {};
for (const zip of readdirSync(packageDir).filter((f) => f.endsWith(".zip"))) {
  const name = zip.replace(/\.zip$/, "");
  const dir = join(work, "functions", name);
  mkdirSync(dir, { recursive: true });
  execFileSync("unzip", ["-q", "-o", join(packageDir, zip), "-d", dir]);
  bundles[name] = join(dir, "functions", `${name}.cjs`);
}

const esbuildSettings = (
  loadServerlessConfig("dev") as unknown as { custom: { esbuild: Record<string, unknown> } }
).custom.esbuild;
async function buildBare(entry: string): Promise<string> {
  const outfile = join(work, "bare", `${entry}.cjs`);
  const { bundle, minify, target, platform, format, mainFields } = esbuildSettings as {
    bundle: boolean;
    minify: boolean;
    target: string;
    platform: "node";
    format: "cjs";
    mainFields: string[];
  };
  await build({
    entryPoints: [join(ROOT, "bench", "bare", `${entry}.ts`)],
    outfile,
    bundle,
    minify,
    target,
    platform,
    format,
    mainFields,
    logLevel: "silent",
  });
  return outfile;
}
const bareMinimum = await buildBare("minimum");
const bareReplay = await buildBare("replay");

// ---- 2. Cold: bundle size and import time in a fresh process.
const tables = Object.fromEntries(
  loadTableDefinitions("dev").map((d) => [d.envVar, `bench-${d.logicalId}`]),
);
const runtimeEnv: Record<string, string> = {
  AUTH_ISSUER: "http://127.0.0.1:9/",
  AUTH_AUDIENCE: "https://api.music.example.com",
  CURSOR_SECRET: deployEnv.CURSOR_SECRET,
  LOG_LEVEL: "WARN",
  // The warm loops play and create a thousand times: no cooldown, quotas out of the way.
  PLAY_COOLDOWN_SECONDS: "0",
  MAX_SONGS_PER_USER: "1000000",
  MAX_PLAYLISTS_PER_USER: "1000000",
  AWS_REGION: "us-east-1",
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  ...tables,
};

function importOnce(file: string): number {
  const script = `const t=performance.now();await import(${JSON.stringify(pathToFileURL(file).href)});process.stdout.write(String(performance.now()-t))`;
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    env: { PATH: process.env.PATH, ...runtimeEnv },
    encoding: "utf8",
  });
  if (result.status !== 0) throw new Error(`importing ${file} failed: ${result.stderr}`);
  return Number(result.stdout);
}

say(`cold imports (${IMPORT_RUNS} fresh processes each, interleaved with the bare minimum)`);
// Rounds interleave every bundle, so drift of the machine touches all of them alike.
const importTimes = new Map<string, number[]>([
  [bareMinimum, []],
  ...Object.values(bundles).map((f) => [f, []] as [string, number[]]),
]);
for (let round = 0; round < IMPORT_RUNS; round++) {
  for (const [file, times] of importTimes) times.push(importOnce(file));
}
const bareBytes = statSync(bareMinimum).size;
const bareImport = median(importTimes.get(bareMinimum) ?? []);
const cold = Object.entries(bundles).map(([name, file]) => {
  const bytes = statSync(file).size;
  const ms = median(importTimes.get(file) ?? []);
  return {
    function: name,
    bytes,
    bundleRatio: round(bytes / bareBytes),
    importMs: round(ms),
    importRatio: round(ms / bareImport),
  };
});

// ---- 3. Warm: handlers in this process against DynamoDB Local with real tokens.
say("starting DynamoDB Local and a token issuer");
const [dynamoPort, issuerPort] = [await freePort(), await freePort()];
const dynamo = await startDynamoDb({ port: dynamoPort });
const admin = localClient(dynamo.endpoint);
await ensureTables(admin, loadTableDefinitions("dev"), (d) => `bench-${d.logicalId}`);
const doc = DynamoDBDocumentClient.from(admin);
const proxy = await startDynamoProxy(dynamoPort, { measureCapacity: true });
const { key, privateJwk: _ } = await createSigningKey();
const issuer = `http://127.0.0.1:${issuerPort}/`;
const issuerServer = await serveIssuer(issuerPort, { issuer, keys: [key.publicJwk] });
type Handler = (event: unknown, context: unknown) => Promise<unknown>;
/**
 * A fresh module instance of a bundle, configured by the environment of the moment. CommonJS
 * modules are cached by file name, so each instance is loaded from its own copy.
 */
async function freshInstance(file: string, instance: string): Promise<Handler> {
  const copy = file.replace(/\.cjs$/, `.${instance.replace(/\W/g, "_")}.cjs`);
  copyFileSync(file, copy);
  return (await import(pathToFileURL(copy).href)).handler as Handler;
}

async function loadHandlers(dynamodbEndpoint: string, instance: string) {
  Object.assign(process.env, runtimeEnv, {
    AUTH_ISSUER: issuer,
    DYNAMODB_ENDPOINT: dynamodbEndpoint,
  });
  const loaded: Record<string, Handler> = {};
  for (const [name, file] of Object.entries(bundles))
    loaded[name] = await freshInstance(file, instance);
  return loaded;
}
// Timed instances talk to DynamoDB Local directly; counting instances go through the proxy.
const handlers = await loadHandlers(dynamo.endpoint, "timed");
const counted = await loadHandlers(proxy.endpoint, "counted");
process.env.DYNAMODB_ENDPOINT = dynamo.endpoint;
// A bare instance per route, like each function's own: the JIT warms both by the same calls.
const bareFor = (route: string) => freshInstance(bareReplay, route);
const context = { awsRequestId: "bench", getRemainingTimeInMillis: () => 10_000 };

const sub = "google-oauth2|bench-user";
const audience = "https://api.music.example.com";
const token = await signAccessToken(key, { issuer, audience, sub, expiresInSeconds: 7200 });
const hookToken = await signAccessToken(key, {
  issuer,
  audience,
  sub: "bench@clients",
  scope: "run:post_login",
  claims: { gty: "client-credentials" },
});
const T = {
  profiles: tables.PROFILES_TABLE as string,
  counters: tables.COUNTERS_TABLE as string,
  playlists: tables.PLAYLISTS_TABLE as string,
  featured: tables.FEATURED_TABLE as string,
};
const now = new Date().toISOString();

/** Fixtures are made through the functions themselves, so their items are what the code writes. */
async function through(fn: string, fixture: string, changes: EventChanges) {
  const response = (await (handlers[fn] as Handler)(httpEvent(fixture, changes), context)) as {
    statusCode: number;
    body: string;
  };
  if (response.statusCode >= 300) {
    throw new Error(`fixture ${fixture} answered ${response.statusCode}: ${response.body}`);
  }
  return response.body ? JSON.parse(response.body) : undefined;
}
const noKey = { "idempotency-key": null };
await through("displayName", "displayName-put", { token, body: { displayName: "Bench" } });
const { songId } = await through("songs", "songs-create", {
  token,
  body: { songName: "Bench", genre: "g" },
  headers: noKey,
});
const { playlistId } = await through("playlists", "playlists-create", {
  token,
  body: { name: "Bench" },
  headers: noKey,
});
for (let i = 0; i < 20; i++) {
  await doc.send(
    new PutCommand({
      TableName: T.featured,
      Item: {
        playlist_id: `01JD0000000000000000FEAT${String(i).padStart(2, "0")}`,
        name: `F${i}`,
        song_ids: [],
        plays: 0,
        created_at: now,
        updated_at: now,
      },
    }),
  );
}

interface Route {
  route: string;
  fn: string;
  fixture: string;
  changes: EventChanges;
}
const userPath = `/users/${encodeURIComponent(sub)}`;
const ROUTES: Route[] = [
  { route: "GET /displayName", fn: "displayName", fixture: "displayName-get", changes: { token } },
  {
    route: "PUT /displayName",
    fn: "displayName",
    fixture: "displayName-put",
    changes: { token, body: { displayName: "Bench" } },
  },
  { route: "GET /genres/getFav", fn: "getFavGenre", fixture: "genres-getFav", changes: { token } },
  {
    route: "PUT /genres/fav",
    fn: "getFavGenre",
    fixture: "genres-putFav",
    changes: { token, body: { genre: "jazz" } },
  },
  {
    route: "GET /songs",
    fn: "songs",
    fixture: "songs-list",
    changes: { token, query: { limit: "10" } },
  },
  {
    route: "POST /songs",
    fn: "songs",
    fixture: "songs-create",
    changes: { token, body: { songName: "Bench", genre: "g" }, headers: noKey },
  },
  {
    route: "GET /songs/{songId}",
    fn: "songs",
    fixture: "songs-get",
    changes: { token, pathParameters: { songId } },
  },
  {
    route: "GET /playlists",
    fn: "playlists",
    fixture: "playlists-list",
    changes: { token, query: { limit: "10" } },
  },
  {
    route: "GET /playlists/{playlistId}",
    fn: "playlists",
    fixture: "playlists-get",
    changes: { token, pathParameters: { playlistId } },
  },
  {
    route: "PATCH /playlists/{playlistId}",
    fn: "playlists",
    fixture: "playlists-patch",
    changes: { token, pathParameters: { playlistId }, body: { name: "Bench" } },
  },
  {
    route: "POST /playlists/{playlistId}/plays",
    fn: "playlists",
    fixture: "playlists-play",
    changes: { token, pathParameters: { playlistId }, headers: noKey },
  },
  {
    route: "GET /playlists/featured",
    fn: "playlists",
    fixture: "featured-list",
    changes: { token, query: { limit: "10" } },
  },
  { route: "GET /playlists/getPlays", fn: "getPlays", fixture: "getPlays", changes: { token } },
  {
    route: "GET /users/{userId}",
    fn: "users",
    fixture: "users-get",
    changes: { token, rawPath: userPath },
  },
  {
    route: "PATCH /users/{userId}",
    fn: "users",
    fixture: "users-patch",
    changes: { token, rawPath: userPath, body: { user_metadata: { theme: "dark" } } },
  },
  {
    route: "POST /hooks/post-login",
    fn: "postLogin",
    fixture: "postLogin-http",
    changes: { token: hookToken, body: { user: { user_id: sub } } },
  },
];

async function timeOnce(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

say(`warm latency (${WARM_RUNS} invocations per route, alternating with the bare minimum)`);
const warm = [];
for (const route of ROUTES) {
  const handler = handlers[route.fn] as Handler;
  const event = httpEvent(route.fixture, route.changes);
  const bareEvent = {
    headers: { authorization: `Bearer ${route.changes.token}` },
    work: [] as Work,
  };
  const ours = async () => {
    const response = (await handler(event, context)) as { statusCode: number; body: string };
    if (response.statusCode >= 300)
      throw new Error(`${route.route} answered ${response.statusCode}: ${response.body}`);
  };
  // One real invocation through the proxy: its round trips, capacity and exact requests.
  proxy.reset();
  await (counted[route.fn] as Handler)(event, context);
  const roundTrips = proxy.operations();
  const { read, write } = proxy.capacityUnits();
  const recorded = proxy.requests();
  const bare = await bareFor(route.route);
  const floor = () => bare({ ...bareEvent, work: recorded }, context);
  for (let i = 0; i < 100; i++) {
    await ours();
    await floor();
  }
  const oursMs: number[] = [];
  const bareMs: number[] = [];
  // Alternate which goes first, so neither always runs right after the other.
  for (let i = 0; i < WARM_RUNS; i++) {
    if (i % 2 === 0) {
      oursMs.push(await timeOnce(ours));
      bareMs.push(await timeOnce(floor));
    } else {
      bareMs.push(await timeOnce(floor));
      oursMs.push(await timeOnce(ours));
    }
  }
  warm.push({
    route: route.route,
    medianMs: round(median(oursMs)),
    p99Ms: round(p99(oursMs)),
    bareMedianMs: round(median(bareMs)),
    bareP99Ms: round(p99(bareMs)),
    ratio: round(median(oursMs) / median(bareMs)),
    dynamoCalls: roundTrips.length,
    operations: roundTrips.join(" + "),
    readCU: round(read, 1),
    writeCU: round(write, 1),
  });
}

// ---- 3b. Capacity units per request for the smallest and the largest allowed items.
say("consumed capacity with the smallest and the largest allowed items");
const largeSub = "google-oauth2|bench-large";
const largeToken = await signAccessToken(key, { issuer, audience, sub: largeSub });
const operatorToken = await signAccessToken(key, {
  issuer,
  audience,
  sub: "auth0|bench-operator",
  permissions: ["update:users_app_metadata"],
});
const largePath = `/users/${encodeURIComponent(largeSub)}`;
// Just under the 32 kB limits of each metadata object, and a playlist of 500 ids of 64 chars.
const filler = (bytes: number) => "x".repeat(bytes - '{"filler":""}'.length - 40);
await through("users", "users-patch", {
  token: largeToken,
  rawPath: largePath,
  body: { user_metadata: { filler: filler(32 * 1024), displayName: "Large" } },
});
await through("users", "users-patch", {
  token: operatorToken,
  rawPath: largePath,
  body: { app_metadata: { filler: filler(32 * 1024) } },
});
const large = await through("playlists", "playlists-create", {
  token: largeToken,
  body: {
    name: "L".repeat(100),
    songIds: Array.from({ length: 500 }, (_, i) => `${i}`.padStart(64, "s")),
  },
  headers: noKey,
});
const sized = {
  smallest: { token, playlistId, sub },
  largest: { token: largeToken, playlistId: large.playlistId as string, sub: largeSub },
};
const capacityRoutes: [string, string, string, (s: typeof sized.smallest) => EventChanges][] = [
  [
    "POST /playlists/{playlistId}/plays",
    "playlists",
    "playlists-play",
    (u) => ({
      token: u.token,
      pathParameters: { playlistId: u.playlistId },
      headers: noKey,
    }),
  ],
  [
    "GET /playlists/{playlistId}",
    "playlists",
    "playlists-get",
    (u) => ({
      token: u.token,
      pathParameters: { playlistId: u.playlistId },
    }),
  ],
  ["GET /playlists/getPlays", "getPlays", "getPlays", (u) => ({ token: u.token })],
  [
    "PUT /genres/fav",
    "getFavGenre",
    "genres-putFav",
    (u) => ({
      token: u.token,
      body: { genre: "jazz" },
    }),
  ],
  [
    "POST /hooks/post-login",
    "postLogin",
    "postLogin-http",
    (u) => ({
      token: hookToken,
      body: { user: { user_id: u.sub } },
    }),
  ],
];
const capacity = [];
for (const [route, fn, fixture, changes] of capacityRoutes) {
  const units: Record<string, { read: number; write: number }> = {};
  for (const [size, user] of Object.entries(sized)) {
    proxy.reset();
    await (counted[fn] as Handler)(httpEvent(fixture, changes(user)), context);
    units[size] = proxy.capacityUnits();
  }
  capacity.push({
    route,
    smallestWriteCU: units.smallest?.write,
    largestWriteCU: units.largest?.write,
    smallestReadCU: units.smallest?.read,
    largestReadCU: units.largest?.read,
  });
}

// ---- 4. getPlays does not grow with the number of playlists.
say("getPlays with 10 and 10,000 playlists");
async function userWithPlaylists(count: number): Promise<string> {
  const owner = `auth0|bench-${count}`;
  for (let i = 0; i < count; i += 25) {
    const items = Array.from({ length: Math.min(25, count - i) }, (_, j) => ({
      PutRequest: {
        Item: {
          user_id: owner,
          playlist_id: `P${String(i + j).padStart(8, "0")}`,
          name: "x",
          song_ids: [],
          plays: 1,
          created_at: now,
          updated_at: now,
        },
      },
    }));
    await doc.send(new BatchWriteCommand({ RequestItems: { [T.playlists]: items } }));
  }
  await doc.send(
    new PutCommand({
      TableName: T.counters,
      Item: { user_id: owner, counter_id: "user", total_plays: count, playlists: count },
    }),
  );
  return signAccessToken(key, { issuer, audience, sub: owner });
}
const getPlaysScaling: Record<string, number> = {};
for (const count of [10, 10_000]) {
  const userToken = await userWithPlaylists(count);
  const event = httpEvent("getPlays", { token: userToken });
  const times: number[] = [];
  for (let i = 0; i < 30; i++) await handlers.getPlays?.(event, context);
  for (let i = 0; i < WARM_RUNS; i++)
    times.push(await timeOnce(() => handlers.getPlays?.(event, context) as Promise<unknown>));
  getPlaysScaling[`${count}`] = round(median(times));
}

// ---- 4b. Deleting an account at both quotas: 10,000 songs and 1,000 playlists.
say("deleting an account holding 10,000 songs and 1,000 playlists");
async function accountAtQuota(): Promise<{ owner: string; ownerToken: string }> {
  const owner = "auth0|bench-at-quota";
  const put = async (table: string, items: Record<string, unknown>[]) => {
    for (let i = 0; i < items.length; i += 25) {
      const batch = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
      await doc.send(new BatchWriteCommand({ RequestItems: { [table]: batch } }));
    }
  };
  const id = (prefix: string, i: number) =>
    `01JD${prefix}${String(i).padStart(22 - prefix.length, "0")}`;
  await put(
    tables.SONGS_TABLE as string,
    Array.from({ length: 10_000 }, (_, i) => ({
      user_id: owner,
      song_id: id("S", i),
      song_name: "s",
      genre: "g",
      created_at: now,
    })),
  );
  await put(
    T.playlists,
    Array.from({ length: 1_000 }, (_, i) => ({
      user_id: owner,
      playlist_id: id("P", i),
      name: "p",
      song_ids: [],
      created_at: now,
      updated_at: now,
    })),
  );
  await put(T.counters, [
    ...Array.from({ length: 1_000 }, (_, i) => ({
      user_id: owner,
      counter_id: id("P", i),
      plays: 1,
    })),
    { user_id: owner, counter_id: "user", songs: 10_000, playlists: 1_000, total_plays: 1_000 },
  ]);
  return { owner, ownerToken: await signAccessToken(key, { issuer, audience, sub: owner }) };
}
const atQuota = await accountAtQuota();
const deletionStarted = performance.now();
const deletion = (await (handlers.users as Handler)(
  httpEvent("users-delete", {
    token: atQuota.ownerToken,
    rawPath: `/users/${encodeURIComponent(atQuota.owner)}`,
  }),
  context,
)) as { statusCode: number };
const accountDeletionMs = Math.round(performance.now() - deletionStarted);
if (deletion.statusCode !== 204)
  throw new Error(`account deletion answered ${deletion.statusCode}`);

// ---- 5. JWT verifications per second on one core.
const localKeys = createLocalJWKSet({ keys: [key.publicJwk] });
let verified = 0;
const verifyUntil = performance.now() + 2000;
while (performance.now() < verifyUntil) {
  await jwtVerify(token, localKeys, { issuer, audience });
  verified++;
}
const jwtPerSecond = Math.round(verified / 2);

await proxy.close();
issuerServer.close();
admin.destroy();
await dynamo.stop();

// ---- Report.
const goals = {
  coldImportRatioMax: Math.max(...cold.map((c) => c.importRatio)),
  bundleRatioMax: Math.max(...cold.map((c) => c.bundleRatio)),
  warmRatioMax: Math.max(...warm.map((w) => w.ratio)),
  playWriteCapacityFlat: capacity[0]?.smallestWriteCU === capacity[0]?.largestWriteCU,
};
const results = {
  date: new Date().toISOString(),
  machine: {
    node: process.version,
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    platform: process.platform,
  },
  bareMinimum: { bytes: bareBytes, importMs: round(bareImport) },
  cold,
  warm,
  capacity,
  accountDeletionAtQuotaMs: accountDeletionMs,
  getPlaysMedianMsByPlaylists: getPlaysScaling,
  jwtVerificationsPerSecond: jwtPerSecond,
  goals,
};
mkdirSync(join(ROOT, "bench"), { recursive: true });
writeFileSync(join(ROOT, "bench", "results.json"), `${JSON.stringify(results, null, 2)}\n`);

console.log(
  `\nCold: bundle and import (bare minimum: ${bareBytes} bytes, ${round(bareImport)} ms)`,
);
console.table(cold);
console.log("Warm: per route, in-process against DynamoDB Local (ms)");
console.table(warm);
console.log("Consumed capacity units per request, smallest vs largest allowed items");
console.table(capacity);
console.log(
  `getPlays median: ${getPlaysScaling["10"]} ms with 10 playlists, ${getPlaysScaling["10000"]} ms with 10,000`,
);
console.log(
  `account deletion at quota (10,000 songs, 1,000 playlists): ${accountDeletionMs} ms (users timeout: 29 s)`,
);
console.log(`JWT verifications per second (one core, RS256): ${jwtPerSecond}`);
console.log(`cold import ratio max ${goals.coldImportRatioMax} (goal <= 1.15)`);
console.log(`bundle ratio max ${goals.bundleRatioMax} (goal <= 1.30)`);
console.log(`warm ratio max ${goals.warmRatioMax} (goal <= 1.10)`);
console.log(
  `a play writes ${capacity[0]?.smallestWriteCU} WCU with the smallest items and ${capacity[0]?.largestWriteCU} with the largest (${goals.playWriteCapacityFlat ? "flat" : "NOT flat"})`,
);
