import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { warmRoutes } from "../../bench/warm.ts";
import type { LambdaHandler } from "../../lib/http/handler.ts";
import { openApiDocument } from "../../lib/http/openapi.ts";
import { validate } from "../../lib/validate.ts";
import { loadEvent } from "../../scripts/local/events.ts";
import { declaredRoutes, serverlessRoutes } from "../../scripts/local/routes.ts";
import {
  loadHttpRoutes,
  loadServerlessConfig,
  ROOT,
} from "../../scripts/local/serverless-config.ts";

/**
 * A route is declared once, with defineRoute in its function's module; this test holds every
 * other place that must know it to those declarations: serverless.yml (what deploys), each
 * function's dispatch, the OpenAPI document (what clients read) and events/ (what tests and
 * `serverless invoke local` send). A route missing anywhere fails here, naming it.
 */
const deployed = loadHttpRoutes();
const { operations } = (
  loadServerlessConfig() as unknown as {
    custom: {
      operations: {
        routeThrottles: Record<string, { rate: number; burst: number }>;
        alarms: { routeP99Ms: Record<string, number> };
      };
    };
  }
).custom;
const declarations = await declaredRoutes();
const functions = Object.keys(declarations);
const all = Object.values(declarations).flat();

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
    const built = JSON.parse(JSON.stringify(openApiDocument(all)));
    const onDisk = JSON.parse(readFileSync(join(ROOT, "docs", "openapi.json"), "utf8"));
    expect(onDisk).toEqual(built);
    const documented = Object.entries(built.paths as Record<string, object>).flatMap(
      ([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual(all.map((route) => route.key).sort());
  });

  it("throttles exactly the routes that declare a throttle, as declared, and $default", () => {
    const declared = Object.fromEntries(
      Object.values(declarations)
        .flat()
        .filter((route) => route.throttle)
        .map((route) => [route.key, route.throttle]),
    );
    const { $default, ...perRoute } = operations.routeThrottles;
    expect(perRoute).toEqual(declared);
    expect($default).toEqual({ rate: 10, burst: 20 });
  });

  it("alarms on each route's p99 at its declared threshold, 1000 ms by default", () => {
    const declared = Object.fromEntries(
      Object.values(declarations)
        .flat()
        .map((route) => [route.key, route.p99Ms ?? 1000]),
    );
    expect(operations.alarms.routeP99Ms).toEqual(declared);
    expect(declared["DELETE /users/{userId}"]).toBe(10000);
    expect(declared["GET /users/{userId}/export"]).toBe(5000);
  });

  it("deploys what scripts/serverless/routes.json holds, generated from the declarations", async () => {
    const onDisk = JSON.parse(
      readFileSync(join(ROOT, "scripts", "serverless", "routes.json"), "utf8"),
    );
    expect(onDisk).toEqual(await serverlessRoutes());
  });

  it("benches only declared routes, each on the function that declares it", () => {
    const owner = new Map<string, string>(
      Object.entries(declarations).flatMap(([fn, routes]) => routes.map((r) => [r.key, fn])),
    );
    const user = { token: "t", hookToken: "h", songId: "s", playlistId: "p", sub: "auth0|u" };
    const benched = warmRoutes({ user } as unknown as Parameters<typeof warmRoutes>[0]);
    expect(benched.filter((route) => owner.get(route.route) !== route.fn)).toEqual([]);
  });

  // scripts/local/sample-events.ts builds an event for each declared route, and
  // tests/unit/events.test.ts holds events/ to what it builds: this holds each to its route.
  it.each(all.map((route) => [route.id, route] as const))(
    "%s: events/ holds a request for it that its declared parts accept",
    (id, route) => {
      const event = loadEvent(id);
      expect(event.routeKey).toBe(route.key);
      expect(event.requestContext.http.method).toBe(route.key.split(" ")[0]);
      expect("authorization" in event.headers).toBe(route.caller !== "public");
      const params = Object.entries(route.params ?? {});
      const path = (route.key.split(" ")[1] ?? "").replace(/\{(\w+)\}/g, (_, name: string) =>
        encodeURIComponent(event.pathParameters?.[name] ?? ""),
      );
      expect(event.rawPath).toBe(path);
      expect(event.pathParameters ?? {}).toEqual(
        Object.fromEntries(params.map(([name, param]) => [name, param.example])),
      );
      // An example the route would refuse (404 for an id it could not have issued) shows nothing.
      for (const [, param] of params) {
        expect(() => validate(param.schema as never, param.example)).not.toThrow();
      }
      if (route.query) {
        expect(() =>
          validate(route.query as never, event.queryStringParameters ?? {}),
        ).not.toThrow();
      } else expect(event.queryStringParameters).toBeUndefined();
      if (route.body && !(route.bodyOptional && event.body === undefined)) {
        expect(() => validate(route.body as never, JSON.parse(event.body ?? "null"))).not.toThrow();
      } else if (!route.body) expect(event.body).toBeUndefined();
      for (const header of Object.values(route.headers ?? {})) {
        expect(() => header.read(event)).not.toThrow();
      }
    },
  );
});
