/**
 * `npm run bench`: each function as it deploys, beside the bare minimum (one JWT verified with
 * jose, one DynamoDB call): bundle size and cold import time (bench/cold.ts), warm latency,
 * round trips and consumed capacity per route against DynamoDB Local with real tokens
 * (bench/warm.ts), capacity with the smallest and largest items (bench/capacity.ts), getPlays
 * with 10 and 10,000 playlists, the export's pages and account deletion at quota and JWT verifications per second
 * (bench/scaling.ts), sync's pull after one change at 10 and 10,000 items, a push and a merge
 * (bench/sync.ts). Prints tables, writes .data/bench/results.json (`--record`: the tracked
 * bench/results.json). `--quick`: fewer rounds at smaller sizes, indicative figures only.
 */
import { commandLine } from "../scripts/local/cli.ts";

const usage = `usage: npm run bench [-- --quick | --record]

Measures every function beside the bare minimum: bundle size, cold import and first request,
warm latency, round trips and capacity per route, scaling; prints tables and writes
.data/bench/results.json (ignored by git). --record writes the tracked bench/results.json
instead, the figures docs/cost-and-performance.md quotes. --quick measures with fewer rounds at
smaller sizes (3 cold processes, none with the init warm-up; 50 warm invocations; 100 home
loads; users of 1,000 items and at 1,000 songs and 100 playlists): a few minutes instead of
over ten, its figures indicative only (it says so, and cannot --record). BENCH_IMPORT_RUNS (21;
quick 3) and BENCH_WARM_RUNS (1000; quick 50) set the repetitions; LOG_REQUESTS=1 shows the
functions' own JSON log lines.`;
const { values: options } = commandLine(usage, {
  options: {
    record: { type: "boolean", default: false },
    quick: { type: "boolean", default: false },
  },
});
if (options.quick && options.record) {
  console.error(`--quick figures are indicative: they are never recorded\n\n${usage.trimEnd()}`);
  process.exit(2);
}
// The measurements load the functions' modules, which read their configuration when imported:
// only after the arguments are known (so `--help` needs no configuration).
const { runBench } = await import("./all.ts");
await runBench(options);
