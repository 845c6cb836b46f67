import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { httpEvent } from "../scripts/local/events.ts";
import { median, progress, round, runNode } from "./common.ts";
import type { BenchStack } from "./stack.ts";
import { warmRoutes } from "./warm.ts";

/**
 * What a user waits for on a cold container: from the start of a fresh Node process to the first
 * 2xx of a route, with the key set served over HTTP by the bench's issuer and DynamoDB Local
 * behind it. performance.now() counts from the process's start, so Node's own boot is in both
 * figures alike.
 */
async function firstRequestOnce(
  file: string,
  eventFile: string,
  env: Record<string, string>,
): Promise<number> {
  const script = [
    `const event = JSON.parse(require("node:fs").readFileSync(${JSON.stringify(eventFile)}, "utf8"));`,
    `import(${JSON.stringify(pathToFileURL(file).href)}).then(async (m) => {`,
    `  const r = await m.handler(event, { awsRequestId: "bench", getRemainingTimeInMillis: () => 10000 });`,
    "  const t = performance.now();",
    "  if (r.statusCode >= 300) { console.error(r.statusCode, r.body); process.exit(1); }",
    // The functions write EMF metric lines to stdout: the time goes on a line of its own.
    '  process.stdout.write("\\nFIRST_REQUEST_MS=" + t + "\\n"); process.exit(0);',
    "});",
  ].join("\n");
  const stdout = await runNode(["-e", script], env);
  const match = /FIRST_REQUEST_MS=([\d.]+)/.exec(stdout);
  if (!match) throw new Error(`no timing from ${file}: ${stdout}`);
  return Number(match[1]);
}

/**
 * Each route's first request in a fresh process, as configured by default and with the init
 * warm-up on (lib/lambda/warm-up.ts, INIT_WARM_UP=true), beside the bare minimum's first request (one
 * jose verification with jose's remote key set, one GetItem). Rounds interleave everything, so
 * drift of the machine touches all alike.
 */
export async function measureFirstRequests(
  stack: BenchStack,
  bundles: { functions: Record<string, string>; bareMinimum: string },
  env: Record<string, string>,
  runs: number,
  withWarmUp = true,
) {
  const dir = mkdtempSync(join(tmpdir(), "music-bench-events-"));
  const routeEnv = {
    ...env,
    AUTH_ISSUER: stack.issuer,
    DYNAMODB_ENDPOINT: stack.dynamoEndpoint,
    // Writes the routes repeat (a play, a song) stay within quotas and cooldown.
    PLAY_COOLDOWN_SECONDS: "0",
  };
  const routes = warmRoutes(stack).map((route, i) => {
    const eventFile = join(dir, `${i}.json`);
    writeFileSync(eventFile, JSON.stringify(httpEvent(route.fixture, route.changes)));
    return { ...route, eventFile, byDefault: [] as number[], warmedUp: [] as number[] };
  });
  const bareEvent = join(dir, "bare.json");
  writeFileSync(
    bareEvent,
    JSON.stringify({ headers: { authorization: `Bearer ${stack.user.token}` } }),
  );
  const bare: number[] = [];
  const counter = progress("first-request rounds", runs);
  for (let i = 0; i < runs; i++) {
    bare.push(await firstRequestOnce(bundles.bareMinimum, bareEvent, routeEnv));
    for (const route of routes) {
      const file = bundles.functions[route.fn] as string;
      route.byDefault.push(await firstRequestOnce(file, route.eventFile, routeEnv));
      if (withWarmUp) {
        route.warmedUp.push(
          await firstRequestOnce(file, route.eventFile, { ...routeEnv, INIT_WARM_UP: "true" }),
        );
      }
    }
    counter.step();
  }
  const bareMs = median(bare);
  return {
    bareFirstRequestMs: round(bareMs),
    firstRequest: routes.map((route) => ({
      route: route.route,
      firstRequestMs: round(median(route.byDefault)),
      ratio: round(median(route.byDefault) / bareMs),
      ...(withWarmUp
        ? {
            withWarmUpMs: round(median(route.warmedUp)),
            withWarmUpRatio: round(median(route.warmedUp) / bareMs),
          }
        : {}),
    })),
  };
}
