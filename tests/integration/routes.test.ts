import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { LambdaHandler } from "../../lib/http/handler.ts";
import { OPERATIONS } from "../../lib/openapi.ts";
import { loadHttpRoutes, ROOT } from "../../scripts/local/serverless-config.ts";

/**
 * A route is declared once, in its function's route map; this test holds every other place
 * that must know it to that map: serverless.yml (what deploys), the OpenAPI document (what
 * clients read) and events/ (what tests and `serverless invoke local` send). A route missing
 * anywhere fails here, naming it.
 */
const deployed = loadHttpRoutes();
const functions = Object.keys(deployed);

async function declared(fn: string): Promise<string[]> {
  const module = (await import(`../../functions/${fn}.ts`)) as { handler: LambdaHandler };
  return [...module.handler.routes].sort();
}

describe("every route, declared once and found everywhere", () => {
  it.each(functions)("%s: serves exactly the routes serverless.yml gives it", async (fn) => {
    expect(await declared(fn)).toEqual([...(deployed[fn] ?? [])].sort());
  });

  it("documents exactly the declared routes in the OpenAPI document", async () => {
    const all = (await Promise.all(functions.map(declared))).flat();
    // $default is what no route matches: nothing to document but the 404 every route has.
    const documentable = all.filter((route) => route !== "$default").sort();
    expect(Object.keys(OPERATIONS).sort()).toEqual(documentable);
  });

  it("has a sample event in events/ for every declared route", async () => {
    const samples = new Set(
      readdirSync(join(ROOT, "events")).map(
        (file) =>
          (JSON.parse(readFileSync(join(ROOT, "events", file), "utf8")) as { routeKey?: string })
            .routeKey,
      ),
    );
    const all = (await Promise.all(functions.map(declared))).flat();
    expect(all.filter((route) => !samples.has(route))).toEqual([]);
  });
});
