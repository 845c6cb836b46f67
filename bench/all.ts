/**
 * The measurements of `npm run bench` (bench/run.ts): each function as it deploys, beside the bare minimum (one JWT verified with
 * jose, one DynamoDB call): bundle size and cold import time (bench/cold.ts), warm latency,
 * round trips and consumed capacity per route against DynamoDB Local with real tokens
 * (bench/warm.ts), capacity with the smallest and largest items (bench/capacity.ts), getPlays
 * with 10 and 10,000 playlists, the export's pages and account deletion at quota and JWT verifications per second
 * (bench/scaling.ts), sync's pull after one change at 10 and 10,000 items, a push and a merge
 * (bench/sync.ts). Prints tables, writes .data/bench/results.json (`--record`: the tracked
 * bench/results.json).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { isFunctionLogLine, requestLogsWanted } from "../scripts/local/request-logs.ts";
import { ROOT } from "../scripts/local/serverless-config.ts";
import { buildBundles } from "./bundles.ts";
import { measureCapacity } from "./capacity.ts";
import { measureCold } from "./cold.ts";
import { type BenchScale, benchScale, say } from "./common.ts";
import { measureCost } from "./cost.ts";
import { measureFeaturedHotRead } from "./featured.ts";
import { measureFirstRequests } from "./first-request.ts";
import {
  measureAccountDeletion,
  measureExport,
  measureGetPlaysScaling,
  measureJwtRate,
} from "./scaling.ts";
import { runtimeEnv, startBenchStack } from "./stack.ts";
import { measureSync } from "./sync.ts";
import { measureWarm } from "./warm.ts";
import { measureZips } from "./zips.ts";

/**
 * The functions run in this process: their log lines (a thousand plays, each with its metric)
 * would bury the tables.
 */
function quietFunctionLogs(): void {
  if (requestLogsWanted()) return;
  const log = console.log;
  console.log = (...args: unknown[]) => {
    if (typeof args[0] === "string" && isFunctionLogLine(args[0])) return;
    log(...args);
  };
}

/** The sizes a run measures at, in words: "1,000 items", "10,000 songs, 1,000 playlists". */
function sizesOf(scale: BenchScale) {
  const many = scale.manyItems.toLocaleString("en-US");
  const quotas = { songs: scale.quotaSongs, playlists: scale.quotaPlaylists };
  const atQuotas = `${quotas.songs.toLocaleString("en-US")} songs, ${quotas.playlists.toLocaleString("en-US")} playlists`;
  return { many, quotas, atQuotas };
}

/** Steps 1 to 8 at `scale`: every measurement, on a stack of its own, closed after. */
async function measureEverything(scale: BenchScale) {
  const { importRuns: IMPORT_RUNS, warmRuns: WARM_RUNS } = scale;
  const { many, quotas, atQuotas } = sizesOf(scale);
  const work = mkdtempSync(join(tmpdir(), "music-bench-"));
  if (scale.quick) {
    say(
      `QUICK: ${IMPORT_RUNS} rounds of cold imports and first requests (not with the init warm-up), ${WARM_RUNS} warm invocations per route, ${scale.homeLoads} home loads, users of ${many} items and at ${atQuotas}: indicative figures, not the recorded ones`,
    );
  }

  say("1/8 packaging the functions (serverless package) and the bare minimum");
  const bundles = await buildBundles(work);
  // Before anything copies module instances into the unpacked folders.
  const zips = measureZips(
    join(work, "package"),
    Object.fromEntries(
      Object.keys(bundles.functions).map((fn) => [fn, join(work, "functions", fn)]),
    ),
    dirname(bundles.bareMinimum),
  );
  say(`2/8 cold imports (${IMPORT_RUNS} fresh processes each, interleaved with the bare minimum)`);
  // The default configuration: the code alone, no network during init.
  const codeOnly = await measureCold(bundles, runtimeEnv(bundles.cursorSecret), IMPORT_RUNS);
  say("3/8 starting DynamoDB Local and a token issuer");
  const stack = await startBenchStack(bundles);
  // With INIT_WARM_UP=true the import also waits for the warm-up (key set, one GetItem).
  const withWarmUp = scale.withWarmUp
    ? await measureCold(
        bundles,
        {
          ...runtimeEnv(bundles.cursorSecret),
          AUTH_ISSUER: stack.issuer,
          DYNAMODB_ENDPOINT: stack.dynamoEndpoint,
          INIT_WARM_UP: "true",
        },
        IMPORT_RUNS,
        "cold import rounds with the warm-up",
      )
    : { cold: [] };
  const { bareBytes, bareImport } = codeOnly;
  const cold = codeOnly.cold.map((c, i) => ({
    ...c,
    importWithWarmUpMs: withWarmUp.cold[i]?.importMs,
    importWithWarmUpRatio: withWarmUp.cold[i]?.importRatio,
  }));
  say(
    `4/8 first request of a cold process per route (${IMPORT_RUNS} rounds, by default${scale.withWarmUp ? " and with the warm-up" : ""})`,
  );
  const { bareFirstRequestMs, firstRequest } = await measureFirstRequests(
    stack,
    bundles,
    runtimeEnv(bundles.cursorSecret),
    IMPORT_RUNS,
    scale.withWarmUp,
  );
  say(`5/8 warm latency (${WARM_RUNS} invocations per route, alternating with the bare replay)`);
  const warm = await measureWarm(stack, bundles.bareReplay, WARM_RUNS, scale.warmUpRuns);
  say("6/8 consumed capacity with the smallest and the largest allowed items");
  const capacity = await measureCapacity(stack);
  say("    and at the largest sizes per route, under contention, and the per-caller limit's share");
  const cost = await measureCost(stack, bundles);
  say(
    `    and the featured list's hot read: ${scale.homeLoads} home loads without and with the container cache`,
  );
  const featured = await measureFeaturedHotRead(stack, bundles, scale.homeLoads);
  say(
    `7/8 getPlays with 10 and ${many} playlists; an export and deleting an account at ${atQuotas}`,
  );
  const getPlaysScaling = await measureGetPlaysScaling(
    stack,
    WARM_RUNS,
    scale.manyItems,
    scale.warmUpRuns,
  );
  const exportPages = await measureExport(stack, quotas);
  const accountDeletionMs = await measureAccountDeletion(stack, quotas);
  say(
    `    and sync: a pull after one change with 10 and ${many} songs held, a push of 100, a merge`,
  );
  const sync = await measureSync(stack, scale.manyItems);
  say("8/8 JWT verifications per second");
  const jwtPerSecond = await measureJwtRate(stack);
  await stack.close();
  return {
    bareBytes,
    bareImport,
    cold,
    zips,
    bareFirstRequestMs,
    firstRequest,
    warm,
    capacity,
    cost,
    featured,
    getPlaysScaling,
    exportPages,
    accountDeletionMs,
    sync,
    jwtPerSecond,
  };
}

type Measurements = Awaited<ReturnType<typeof measureEverything>>;

function goalsOf({ cold, firstRequest, zips, warm, capacity }: Measurements, scale: BenchScale) {
  return {
    coldImportRatioMax: Math.max(...cold.map((c) => c.importRatio)),
    coldImportWithWarmUpRatioMax: scale.withWarmUp
      ? Math.max(...cold.map((c) => c.importWithWarmUpRatio ?? 0))
      : null,
    firstRequestRatioMax: Math.max(...firstRequest.map((f) => f.ratio)),
    bundleRatioMax: Math.max(...cold.map((c) => c.bundleRatio)),
    zipRatioMax: Math.max(...zips.rows.map((z) => z.ratio)),
    warmRatioMax: Math.max(...warm.map((w) => w.ratio)),
    playWriteCapacityFlat: capacity[0]?.smallestWriteCU === capacity[0]?.largestWriteCU,
  };
}

type Goals = ReturnType<typeof goalsOf>;

/** results.json: `record` writes the tracked bench/results.json, else .data/bench's. */
function writeResults(m: Measurements, goals: Goals, scale: BenchScale, record: boolean): void {
  const results = {
    date: new Date().toISOString(),
    machine: {
      node: process.version,
      cpu: cpus()[0]?.model ?? "unknown",
      cores: cpus().length,
      platform: process.platform,
    },
    bareMinimum: { bytes: m.bareBytes, importMs: m.bareImport },
    cold: m.cold,
    zips: m.zips,
    bareFirstRequestMs: m.bareFirstRequestMs,
    firstRequest: m.firstRequest,
    warm: m.warm,
    capacity: m.capacity,
    featuredHotRead: m.featured,
    exportPagesAtQuota: m.exportPages,
    accountDeletionAtQuotaMs: m.accountDeletionMs,
    sync: m.sync,
    getPlaysMedianMsByPlaylists: m.getPlaysScaling,
    jwtVerificationsPerSecond: m.jwtPerSecond,
    goals,
    ...(scale.quick ? { quick: true, scale } : {}),
  };
  const resultsDir = record ? join(ROOT, "bench") : join(ROOT, ".data", "bench");
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  say(`results in ${join(resultsDir, "results.json")}${record ? " (recorded)" : ""}`);
}

function printReport(m: Measurements, goals: Goals, scale: BenchScale): void {
  const { many, atQuotas } = sizesOf(scale);
  const { bareBytes, bareImport, cold, zips, bareFirstRequestMs, firstRequest, warm } = m;
  const { capacity, cost, featured, getPlaysScaling, exportPages, accountDeletionMs, sync } = m;
  const { jwtPerSecond } = m;
  console.log(`\nCold: bundle and import (bare minimum: ${bareBytes} bytes, ${bareImport} ms)`);
  console.table(cold);
  console.log(
    `Zips: deployed, and deflated like the bare minimum's files (bare minimum: ${zips.bareDeflatedBytes} bytes)`,
  );
  console.table(zips.rows);
  console.log(`First request of a cold process (bare minimum: ${bareFirstRequestMs} ms)`);
  console.table(firstRequest);
  console.log("Warm: per route, in-process against DynamoDB Local (ms)");
  console.table(warm);
  console.log("Consumed capacity units per request, smallest vs largest allowed items");
  console.table(capacity);
  console.log(
    "Capacity per request at the largest allowed sizes (the route's requests; the limiter's apart), and what one caller repeating it can make the tables spend per second at the default budgets (20 reads, 5 writes, 100 read and 50 write units a second)",
  );
  console.table(cost.perRoute);
  console.log(
    "80 concurrent PATCHes of one 2 × 30 kB profile: outcomes and cost per request (DynamoDB Local reports no capacity for a refused conditional write; DynamoDB bills it by the item's size, about 62 WCU here)",
  );
  console.table([cost.contention]);
  console.log("The per-caller limit's own cost per request (rate-limits table), at the defaults");
  console.table(cost.limiter);
  console.log(
    `The featured list's hot read: ${featured.homeLoads} home loads of ${featured.shelf}, ${featured.containers} containers, ${featured.changes} changes`,
  );
  console.table(featured.rows);
  console.log(
    `getPlays median: ${getPlaysScaling["10"]} ms with 10 playlists, ${getPlaysScaling[String(scale.manyItems)]} ms with ${many}`,
  );
  console.log(`export at ${atQuotas} of 500 ids, largest items, per page`);
  console.table(exportPages);
  console.log(`account deletion at ${atQuotas}: ${accountDeletionMs} ms (users timeout: 29 s)`);
  console.log(
    `Sync: a pull after one change costs the same with 10 or ${many} items held (read units, ms)`,
  );
  console.table(sync);
  console.log(`JWT verifications per second (one core, RS256): ${jwtPerSecond}`);
  console.log(`cold import ratio max ${goals.coldImportRatioMax} (goal <= 1.00)`);
  console.log(
    `cold import with the init warm-up ratio max ${goals.coldImportWithWarmUpRatioMax ?? "not measured (--quick)"} (INIT_WARM_UP=true: its network time too)`,
  );
  console.log(`first request ratio max ${goals.firstRequestRatioMax} (goal <= 1.05)`);
  console.log(`bundle ratio max ${goals.bundleRatioMax} (goal <= 1.30)`);
  console.log(`zip ratio max ${goals.zipRatioMax} (goal <= 1.30)`);
  console.log(`warm ratio max ${goals.warmRatioMax} (goal <= 1.10)`);
  console.log(
    `a play writes ${capacity[0]?.smallestWriteCU} WCU with the smallest items and ${capacity[0]?.largestWriteCU} with the largest (${goals.playWriteCapacityFlat ? "flat" : "NOT flat"})`,
  );
}

/**
 * Runs every measurement; `record` writes the tracked bench/results.json; `quick` measures fewer
 * rounds at smaller sizes (bench/common.ts benchScale), its figures indicative only.
 */
export async function runBench(options: { record: boolean; quick: boolean }): Promise<void> {
  quietFunctionLogs();
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  const scale = benchScale(options.quick);
  const started = performance.now();
  const measured = await measureEverything(scale);
  const goals = goalsOf(measured, scale);
  writeResults(measured, goals, scale, options.record);
  printReport(measured, goals, scale);
  const minutes = ((performance.now() - started) / 60_000).toFixed(1);
  if (scale.quick) {
    console.log(
      `QUICK run (${minutes} min): fewer rounds and smaller users, figures indicative only; \`npm run bench\` measures the full set`,
    );
  } else console.log(`full run: ${minutes} min`);
}
