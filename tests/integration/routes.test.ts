import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { LambdaHandler } from "../../lib/http/handler.ts";
import { openApiDocument } from "../../lib/openapi.ts";
import { declaredRoutes } from "../../scripts/local/routes.ts";
import { loadHttpRoutes, ROOT } from "../../scripts/local/serverless-config.ts";

/**
 * A route is declared once, with defineRoute in its function's module; this test holds every
 * other place that must know it to those declarations: serverless.yml (what deploys), each
 * function's dispatch, the OpenAPI document (what clients read) and events/ (what tests and
 * `serverless invoke local` send). A route missing anywhere fails here, naming it.
 */
const deployed = loadHttpRoutes();
const declarations = await declaredRoutes();
const functions = Object.keys(declarations);

async function dispatched(fn: string): Promise<string[]> {
  const module = (await import(`../../functions/${fn}.ts`)) as { handler: LambdaHandler };
  return [...module.handler.routes].sort();
}

describe("every route, declared once and found everywhere", () => {
  it("deploys exactly the function modules of functions/", () => {
    expect(Object.keys(deployed).sort()).toEqual([...functions].sort());
  });

  it.each(functions)("%s: serverless.yml gives it exactly its declared routes", (fn) => {
    const declared = (declarations[fn] ?? []).map((route) => route.key);
    const served = fn === "openapi" ? [...declared, "$default"] : declared;
    expect([...(deployed[fn] ?? [])].sort()).toEqual(served.sort());
  });

  it.each(functions)("%s: dispatches exactly what serverless.yml gives it", async (fn) => {
    expect(await dispatched(fn)).toEqual([...(deployed[fn] ?? [])].sort());
  });

  it("documents exactly the declared routes, as docs/openapi.json holds them", () => {
    const all = Object.values(declarations).flat();
    const built = JSON.parse(JSON.stringify(openApiDocument(all)));
    const onDisk = JSON.parse(readFileSync(join(ROOT, "docs", "openapi.json"), "utf8"));
    expect(onDisk).toEqual(built);
    const documented = Object.entries(built.paths as Record<string, object>).flatMap(
      ([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual(all.map((route) => route.key).sort());
  });

  it("has a sample event in events/ for every declared route", () => {
    const samples = new Set(
      readdirSync(join(ROOT, "events")).map(
        (file) =>
          (JSON.parse(readFileSync(join(ROOT, "events", file), "utf8")) as { routeKey?: string })
            .routeKey,
      ),
    );
    const all = Object.values(declarations)
      .flat()
      .map((route) => route.key);
    expect(all.filter((route) => !samples.has(route))).toEqual([]);
  });
});
