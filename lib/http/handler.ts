import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { requirePerson } from "../auth/access.ts";
import { NotFoundError, ServiceUnavailableError } from "../errors.ts";
import { metric } from "../metrics.ts";
import { authenticate, jsonBody, rateLimit, requestLifecycle } from "./middlewares.ts";
import type { HttpContext, HttpEvent, HttpRequest, HttpResponse } from "./types.ts";
import { stateOf } from "./types.ts";

/** A Lambda handler of the HTTP API, with the route keys it serves (checked by tests/). */
export type LambdaHandler = ((event: HttpEvent, context: Context) => Promise<HttpResponse>) & {
  routes: readonly string[];
};

type RouteHandler = (request: HttpRequest) => Promise<HttpResponse>;

/** Route handlers of one Lambda, keyed by the HTTP API route key, e.g. "GET /songs/{songId}". */
export type Routes = Record<string, RouteHandler>;

export interface HandlerOptions {
  /**
   * Whether client-credentials tokens (machines) may call these routes (all, or those route
   * keys). The user routes say no: a machine has no songs. Those that serve operators and the
   * Auth0 Action say yes.
   */
  machines?: boolean | readonly string[];
  /**
   * Whether each request spends the caller's per-second budget (the default). The post-login
   * hook says no: its caller is the Action's one client for every login, so it spends the
   * budget of the user it runs for instead.
   */
  rateLimited?: boolean;
}

/**
 * A function about to run out of time answers 503 with Retry-After through the error mapping,
 * half a second before Lambda would stop it: never Lambda's or serverless-offline's bare error,
 * never a 200 carrying an error message.
 */
const TIMEOUT = {
  timeoutEarlyInMillis: 500,
  timeoutEarlyResponse: (): HttpResponse => {
    metric("Unavailable", 1, "timeout");
    throw new ServiceUnavailableError(1);
  },
};

/** The handler of a route key; own properties only: a routeKey such as "constructor" is none. */
function routeOf<T>(routes: Record<string, T>, routeKey: string): T {
  const route = Object.hasOwn(routes, routeKey) ? routes[routeKey] : undefined;
  if (!route) throw new NotFoundError("No such route", "no_route");
  return route;
}

function withRoutes(
  handler: (event: HttpEvent, context: Context) => Promise<HttpResponse>,
  routes: string[],
): LambdaHandler {
  return Object.assign(handler, { routes: Object.freeze(routes) });
}

/**
 * The one middleware stack of every authenticated HTTP function: lifecycle (log line, error
 * mapping) outermost, then token verification, then the caller's rate limit, then body
 * parsing, then the route.
 */
export function httpHandler(routes: Routes, options: HandlerOptions = {}): LambdaHandler {
  const dispatch = async (event: HttpEvent, context: HttpContext): Promise<HttpResponse> => {
    const route = routeOf(routes, event.routeKey);
    const { caller, body, correlationId } = stateOf(context);
    if (!caller) throw new Error("the authenticate middleware did not run");
    const machines = options.machines;
    const machinesAllowed = Array.isArray(machines) ? machines.includes(event.routeKey) : machines;
    if (!machinesAllowed) requirePerson(caller);
    return route({ event, caller, body, correlationId });
  };
  const stack = middy<HttpEvent, HttpResponse, Error, HttpContext>(TIMEOUT)
    .use(requestLifecycle())
    .use(authenticate())
    .use(options.rateLimited === false ? [] : [rateLimit()])
    .use(jsonBody())
    .handler(dispatch);
  return withRoutes(stack, Object.keys(routes));
}

/**
 * The same stack without authentication, for what anyone may reach: the API's description,
 * and `$default` (a route nothing else serves), answered 404 in the error shape.
 */
export function publicHttpHandler(
  routes: Record<string, (event: HttpEvent) => Promise<HttpResponse>>,
): LambdaHandler {
  const stack = middy<HttpEvent, HttpResponse, Error, HttpContext>(TIMEOUT)
    .use(requestLifecycle())
    .handler((event: HttpEvent) => {
      const route = routeOf(routes, event.routeKey);
      return route(event);
    });
  return withRoutes(stack, Object.keys(routes));
}

/** The route key API Gateway gives a request no other route matches. */
export const DEFAULT_ROUTE = "$default";

/** An unmatched route: 404 in the API's error shape. */
export async function noSuchRoute(): Promise<HttpResponse> {
  throw new NotFoundError("No such route: see GET /openapi.json", "no_route");
}
