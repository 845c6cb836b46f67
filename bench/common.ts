/** What every measurement of `npm run bench` shares: statistics, timing, progress, children. */
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * A fresh Node process with only PATH and `env`, answering its stdout. Asynchronous, so that
 * servers of this process (the bench's issuer) keep answering it.
 */
export async function runNode(args: string[], env: Record<string, string>): Promise<string> {
  const { stdout } = await run(process.execPath, args, { env: { PATH: process.env.PATH, ...env } });
  return stdout;
}

export type Handler = (event: unknown, context: unknown) => Promise<unknown>;

const started = performance.now();
/** A progress line on stderr, with the seconds since the bench started (where its time goes). */
export const say = (message: string) =>
  console.error(`[bench ${Math.round((performance.now() - started) / 1000)} s] ${message}`);

export const median = (xs: number[]) =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
export const p99 = (xs: number[]) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))] ?? 0;
export const round = (x: number, digits = 2) => Number(x.toFixed(digits));

export async function timeOnce(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

/**
 * A live counter for a long phase: on a terminal one line rewritten in place ("warm 5/16
 * GET /songs"), elsewhere (CI logs) one line per step.
 */
export function progress(label: string, total: number) {
  let done = 0;
  const live = process.stderr.isTTY;
  return {
    step(detail = "") {
      done++;
      const line = `[bench] ${label} ${done}/${total} ${detail}`.trimEnd();
      if (live) process.stderr.write(`\r\x1b[2K${line}${done === total ? "\n" : ""}`);
      else console.error(line);
    },
  };
}

/**
 * How much `npm run bench` measures. The full run: 21 fresh processes per cold import and first
 * request, 1,000 warm invocations per route, 1,000 home loads, users at 10,000 items and at both
 * quotas. `--quick`: fewer rounds and smaller users, without the init warm-up's variants (off by
 * default), within minutes on a 2-core machine; its
 * figures are indicative (medians of few runs, scaling shown at a tenth of the sizes). The
 * environment's BENCH_IMPORT_RUNS and BENCH_WARM_RUNS set the repetitions of either.
 */
export interface BenchScale {
  quick: boolean;
  /** Fresh processes per cold import and per first request. */
  importRuns: number;
  /** Whether those are measured with the init warm-up too (INIT_WARM_UP=true, off by default). */
  withWarmUp: boolean;
  /** Timed warm invocations per route (and getPlays'); `warmUpRuns` untimed ones before. */
  warmRuns: number;
  warmUpRuns: number;
  /** Home loads of the featured list's hot read. */
  homeLoads: number;
  /** The most playlists (getPlays) and songs (sync's pull) one user holds. */
  manyItems: number;
  /** The quotas the export and the account deletion are measured at. */
  quotaSongs: number;
  quotaPlaylists: number;
}

export function benchScale(quick: boolean, env = process.env): BenchScale {
  const full = !quick;
  return {
    quick,
    importRuns: Number(env.BENCH_IMPORT_RUNS ?? (full ? 21 : 3)),
    withWarmUp: full,
    warmRuns: Number(env.BENCH_WARM_RUNS ?? (full ? 1000 : 50)),
    warmUpRuns: full ? 100 : 10,
    homeLoads: full ? 1_000 : 100,
    manyItems: full ? 10_000 : 1_000,
    quotaSongs: full ? 10_000 : 1_000,
    quotaPlaylists: full ? 1_000 : 100,
  };
}
