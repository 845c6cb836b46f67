import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../../scripts/local/ports.ts";
import { ROOT } from "../../../scripts/local/serverless-config.ts";

const run = promisify(execFile);

/**
 * The init warm-up (INIT_WARM_UP=true) in a fresh process, as Lambda would initialise a
 * function: it fetches the key set during init, and an issuer that never answers cannot hold
 * init longer than the warm-up's bound (1 s; the fetch itself would wait 3 s).
 */
let hanging: Server;
let issuer: string;
let fetches = 0;
/** How long each key set request stayed open before the client went away (ms). */
const heldFor: number[] = [];

beforeAll(async () => {
  const port = await freePort();
  hanging = createServer((request) => {
    fetches++;
    const started = Date.now();
    request.socket.once("close", () => heldFor.push(Date.now() - started));
  });
  await new Promise<void>((resolve) => hanging.listen(port, "127.0.0.1", resolve));
  issuer = `http://127.0.0.1:${port}/`;
});
afterAll(() => {
  hanging.closeAllConnections();
  hanging.close();
});

/** Imports a function in a fresh Node process, which exits as soon as the import (init) ends. */
async function initialise(fn: string, env: Record<string, string>): Promise<void> {
  const script = `await import(${JSON.stringify(join(ROOT, "functions", `${fn}.ts`))}); process.exit(0);`;
  await run(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: ROOT,
    env: { ...process.env, ...env },
  });
}

describe("the init warm-up", () => {
  it("does nothing during init by default", async () => {
    const before = fetches;
    await initialise("getPlays", { AUTH_ISSUER: issuer, INIT_WARM_UP: "" });
    expect(fetches).toBe(before);
  }, 30_000);
  it("fetches the key set during init, and a hanging issuer holds init to the bound", async () => {
    const before = fetches;
    await initialise("getPlays", { AUTH_ISSUER: issuer, INIT_WARM_UP: "true" });
    expect(fetches - before).toBe(1);
    await expect.poll(() => heldFor.length).toBe(1);
    // Init ended (and the process with it) at the 1 s bound, while the fetch was still waiting:
    // without the bound, init would have waited for the fetch's own 3 s timeout.
    expect(heldFor[0]).toBeGreaterThanOrEqual(900);
    expect(heldFor[0]).toBeLessThan(2_500);
  }, 30_000);
});
