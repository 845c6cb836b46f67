import document from "../docs/openapi.json" with { type: "json" };
import {
  DEFAULT_ROUTE,
  noSuchRoute,
  publicHttpHandler,
  publicRoutes,
} from "../lib/http/handler.ts";
import { defineRoute } from "../lib/http/route.ts";

export const routes = [
  // Generated at build time from every route's declaration (npm run openapi), bundled as JSON:
  // nothing is built at init.
  defineRoute({
    key: "GET /openapi.json",
    id: "getOpenApiDocument",
    tag: "meta",
    summary: "This document",
    description: "This document. No token needed.",
    caller: "public",
    responses: { 200: { schema: "OpenApiDocument" } },
    errors: ["no_route"],
    notes: { no_route: "a route nothing serves" },
    throttle: { rate: 5, burst: 10 },
    handler: ({ respond }) => respond(200, document, { "Cache-Control": "public, max-age=300" }),
  }),
  // For load balancers and the app's "starting" state: the function answers, nothing is read
  // (this function may touch no table), so it says that the API is up, not that DynamoDB is.
  defineRoute({
    key: "GET /health",
    id: "getHealth",
    tag: "meta",
    summary: "Whether the API answers",
    description:
      "Liveness, for load balancers and a client's \"starting\" state: 200 once the API's functions answer. No token needed; reads no data (it says nothing of DynamoDB).",
    caller: "public",
    responses: { 200: { schema: "Health" } },
    errors: ["no_route"],
    notes: { no_route: "a route nothing serves" },
    throttle: { rate: 10, burst: 20 },
    handler: ({ respond }) => respond(200, { status: "ok" }, { "Cache-Control": "no-store" }),
  }),
];

/** Every route nothing else serves: 404 in the API's error shape, deployed as locally. */
export const defaultRoute = { throttle: { rate: 10, burst: 20 } };

export const handler = publicHttpHandler({
  ...publicRoutes(routes),
  [DEFAULT_ROUTE]: noSuchRoute,
});
