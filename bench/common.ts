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

export const say = (message: string) => console.error(`[bench] ${message}`);

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
