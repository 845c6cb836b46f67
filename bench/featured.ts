/**
 * The featured list's hot read (issue 29): read units per 1,000 home loads and the busiest
 * partition's share of them, without the container cache (FEATURED_CACHE_SECONDS=0: every home
 * load is one consistent Query of the live shelf, as before the cache) and with it (one
 * consistent GetItem of the version stamp per load, a Query per container after each change).
 * The packaged `playlists` function, in this process, through the capacity-measuring proxy,
 * over a shelf of 50 of the largest featured playlists (500 song ids each): what a home screen
 * reads. Run alone with `npx tsx bench/featured.ts` (it packages the functions first; `--record`
 * adds its figures to the tracked bench/results.json), or as part of `npm run bench`.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BatchWriteCommand } from "@aws-sdk/lib-dynamodb";
import { newId } from "../lib/ids.ts";
import { httpEvent } from "../scripts/local/events.ts";
import { isFunctionLogLine, requestLogsWanted } from "../scripts/local/request-logs.ts";
import { ROOT } from "../scripts/local/serverless-config.ts";
import { type Bundles, buildBundles } from "./bundles.ts";
import { type Handler, round, say } from "./common.ts";
import { type BenchStack, context, freshInstance, startBenchStack } from "./stack.ts";

/** Home loads per run by default (`npm run bench -- --quick`: fewer). */
const HOME_LOADS = 1_000;
/** Warm containers sharing the home loads (round robin), and editorial changes among them. */
const CONTAINERS = 10;
const CHANGES = 2;
const SHELF_SIZE = 50;
/** DynamoDB's most read units per second for one partition key. */
const PARTITION_READ_UNITS = 3_000;

interface Answer {
  statusCode: number;
  body: string;
}

async function seedShelf(stack: BenchStack, editor: string): Promise<string[]> {
  const now = new Date().toISOString();
  const items = Array.from({ length: SHELF_SIZE }, () => ({
    shelf: "live",
    playlist_id: newId(),
    user_id: editor,
    name: "€".repeat(100),
    // Song ids are ULIDs: 26 characters.
    song_ids: Array.from({ length: 500 }, () => newId()),
    plays: 0,
    created_at: now,
    updated_at: now,
    created_by: editor,
    updated_by: editor,
  }));
  for (let i = 0; i < items.length; i += 25) {
    await stack.doc.send(
      new BatchWriteCommand({
        RequestItems: {
          [stack.tables.FEATURED_TABLE as string]: items
            .slice(i, i + 25)
            .map((Item) => ({ PutRequest: { Item } })),
        },
      }),
    );
  }
  return items.map((item) => item.playlist_id);
}

/** Per run: read units on the featured table, split by partition key (the stamp's or the shelf's). */
interface Split {
  total: number;
  live: number;
  stamp: number;
  queries: number;
  stampReads: number;
}

export async function measureFeaturedHotRead(
  stack: BenchStack,
  bundles: Bundles,
  homeLoads = HOME_LOADS,
) {
  const table = stack.tables.FEATURED_TABLE as string;
  const editor = "google-oauth2|bench-featured-editor";
  const ids = await seedShelf(stack, editor);
  const operator = await stack.tokenFor("google-oauth2|bench-featured-operator", {
    permissions: ["update:featured"],
  });
  const listeners = await Promise.all(
    Array.from({ length: 20 }, (_, i) => stack.tokenFor(`google-oauth2|bench-listener-${i}`)),
  );

  const load = (fn: Handler, i: number) =>
    fn(
      httpEvent("listFeaturedPlaylists", { token: listeners[i % listeners.length] }),
      context,
    ).then((answer) => {
      const { statusCode, body } = answer as Answer;
      if (statusCode !== 200) throw new Error(`featured list answered ${statusCode}: ${body}`);
      return body.length;
    });

  // Containers of the packaged function, talking to DynamoDB through the measuring proxy.
  const containers = async (cacheSeconds: number, count: number, tag: string) => {
    const endpoint = process.env.DYNAMODB_ENDPOINT;
    process.env.DYNAMODB_ENDPOINT = stack.proxy.endpoint;
    process.env.FEATURED_CACHE_SECONDS = String(cacheSeconds);
    const loaded: Handler[] = [];
    for (let i = 0; i < count; i++) {
      loaded.push(
        await freshInstance(bundles.functions.playlists as string, `featured-${tag}-${i}`),
      );
    }
    process.env.DYNAMODB_ENDPOINT = endpoint;
    delete process.env.FEATURED_CACHE_SECONDS;
    return loaded;
  };

  const measure = async (fns: Handler[]): Promise<Split & { bodyBytes: number }> => {
    const split: Split = { total: 0, live: 0, stamp: 0, queries: 0, stampReads: 0 };
    let bodyBytes = 0;
    let changesLeft = CHANGES;
    for (let i = 0; i < homeLoads; i++) {
      // Editorial changes spread over the run: an operator renames one of the shelf's playlists.
      if (
        changesLeft > 0 &&
        i === Math.floor((homeLoads * (CHANGES - changesLeft + 1)) / (CHANGES + 1))
      ) {
        changesLeft--;
        const answer = (await (fns[0] as Handler)(
          httpEvent("updateFeaturedPlaylist", {
            token: operator,
            pathParameters: { playlistId: ids[0] as string },
            body: { name: `Tonight ${changesLeft}` },
          }),
          context,
        )) as Answer;
        if (answer.statusCode !== 200)
          throw new Error(`featured patch answered ${answer.statusCode}`);
      }
      stack.proxy.reset();
      bodyBytes = await load(fns[i % fns.length] as Handler, i);
      const reads = stack.proxy.requests().filter((r) => r.input.TableName === table);
      const units = stack.proxy.capacityUnitsOf(table).table.read;
      const queries = reads.filter((r) => r.operation === "Query").length;
      const stampReads = reads.filter((r) => r.operation === "GetItem").length;
      // A stamp read is a consistent GetItem of an item under 4 kB: 1 read unit.
      split.total += units;
      split.stamp += stampReads;
      split.live += units - stampReads;
      split.queries += queries;
      split.stampReads += stampReads;
    }
    return { ...split, bodyBytes };
  };

  say(`    featured: ${homeLoads} home loads without the cache (one container)`);
  const before = await measure(await containers(0, 1, "off"));
  say(
    `    featured: ${homeLoads} home loads over ${CONTAINERS} containers with the cache, ${CHANGES} changes among them`,
  );
  const after = await measure(await containers(60, CONTAINERS, "on"));

  const row = (label: string, s: Split & { bodyBytes: number }) => {
    const busiest = Math.max(s.live, s.stamp);
    const pageReadUnits = s.queries ? s.live / s.queries : 0;
    // The home loads a second one key takes before it meets 3,000 read units a second: the
    // shelf's when every load Queries it; the stamp's when the cache answers, the shelf then
    // taking one page per container per change whatever the load.
    const perLoadOnBusiestLoadKey = s.stamp ? s.stamp / homeLoads : pageReadUnits;
    return {
      run: label,
      readUnitsPer1000Loads: round((s.total * 1_000) / homeLoads),
      queries: s.queries,
      stampReads: s.stampReads,
      liveShelfReadUnits: round(s.live),
      stampReadUnits: round(s.stamp),
      pageReadUnits: round(pageReadUnits),
      busiestPartition: s.live >= s.stamp ? "live" : "version (stamp)",
      busiestShare: round(busiest / s.total, 3),
      homeLoadsPerSecondAtPartitionLimit: Math.floor(
        PARTITION_READ_UNITS / perLoadOnBusiestLoadKey,
      ),
      pageBytes: s.bodyBytes,
    };
  };
  return {
    homeLoads,
    containers: CONTAINERS,
    changes: CHANGES,
    shelf: `${SHELF_SIZE} playlists of 500 song ids`,
    rows: [
      row("before: a Query per home load", before),
      row("after: stamp + container cache", after),
    ],
  };
}

// Alone: package, start the stack, measure, print.
if (import.meta.url === `file://${process.argv[1]}`) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  // The function's audit lines of the changes would bury the table (bench/run.ts does the same).
  if (!requestLogsWanted()) {
    const log = console.log;
    console.log = (...args: unknown[]) => {
      if (typeof args[0] === "string" && isFunctionLogLine(args[0])) return;
      log(...args);
    };
  }
  say("packaging the functions (serverless package)");
  const bundles = await buildBundles(mkdtempSync(join(tmpdir(), "music-bench-featured-")));
  const stack = await startBenchStack(bundles);
  try {
    const result = await measureFeaturedHotRead(stack, bundles);
    if (process.argv.includes("--record")) {
      // Into the tracked bench/results.json, beside the other parts' figures.
      const file = join(ROOT, "bench", "results.json");
      const recorded = JSON.parse(readFileSync(file, "utf8"));
      recorded.featuredHotRead = { date: new Date().toISOString(), ...result };
      writeFileSync(file, `${JSON.stringify(recorded, null, 2)}\n`);
      say(`recorded in ${file}`);
    }
    console.log(
      `Featured list: ${result.homeLoads} home loads, ${result.shelf}, ${result.containers} containers, ${result.changes} changes`,
    );
    console.table(result.rows);
  } finally {
    await stack.close();
  }
}
