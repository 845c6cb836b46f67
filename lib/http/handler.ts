import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { requirePerson } from "../domain/access.ts";
import { NotFoundError } from "../errors.ts";
import { authenticate, jsonBody, requestLifecycle } from "./middlewares.ts";
import type { HttpContext, HttpEvent, HttpRequest, HttpResponse } from "./types.ts";
import { stateOf } from "./types.ts";

/** A Lambda handler of the HTTP API, with the route keys it serves (checked by tests/). */
export type LambdaHandler = ((event: HttpEvent, context: Context) => Promise<HttpResponse>) & {
  routes: readonly string[];
};

export type RouteHandler = (request: HttpRequest) => Promise<HttpResponse>;

/** Route handlers of one Lambda, keyed by the HTTP API route key, e.g. "GET /songs/{songId}". */
export type Routes = Record<string, RouteHandler>;

export interface HandlerOptions {
  /**
   * Whether client-credentials tokens (machines) may call these routes. The user routes say no:
   * a machine has no songs. Those that serve operators and the Auth0 Action say yes.
   */
  machines?: boolean;
}

function withRoutes(
  handler: (event: HttpEvent, context: Context) => Promise<HttpResponse>,
  routes: string[],
): LambdaHandler {
  return Object.assign(handler, { routes: Object.freeze(routes) });
}

/**
 * The one middleware stack of every authenticated HTTP function: lifecycle (log line, error
 * mapping) outermost, then token verification, then body parsing, then the route.
 */
export function httpHandler(routes: Routes, options: HandlerOptions = {}): LambdaHandler {
  const dispatch = async (event: HttpEvent, context: HttpContext): Promise<HttpResponse> => {
    // Own properties only: a routeKey such as "constructor" is no route.
    const route = Object.hasOwn(routes, event.routeKey) ? routes[event.routeKey] : undefined;
    if (!route) throw new NotFoundError("No such route", "no_route");
    const { caller, body, correlationId } = stateOf(context);
    if (!caller) throw new Error("the authenticate middleware did not run");
    if (!options.machines) requirePerson(caller);
    return route({ event, caller, body, correlationId });
  };
  const stack = middy<HttpEvent, HttpResponse, Error, HttpContext>()
    .use(requestLifecycle())
    .use(authenticate())
    .use(jsonBody())
    .handler(dispatch);
  return withRoutes(stack, Object.keys(routes));
}

/** The same stack without authentication, for the few documents anyone may read. */
export function publicHttpHandler(
  routeKey: string,
  route: (event: HttpEvent) => Promise<HttpResponse>,
): LambdaHandler {
  const stack = middy<HttpEvent, HttpResponse, Error, HttpContext>()
    .use(requestLifecycle())
    .handler((event: HttpEvent) => route(event));
  return withRoutes(stack, [routeKey]);
}
