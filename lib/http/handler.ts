import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { requirePerson } from "../auth/access.ts";
import type { Caller } from "../auth/verify.ts";
import { config } from "../config.ts";
import { metered } from "../db/capacity.ts";
import { NotFoundError, ServiceUnavailableError } from "../errors.ts";
import { recordAnswer } from "../instrumentation/call-log.ts";
import { metric } from "../metrics.ts";
import { authenticate, jsonBody, rateLimit, requestLifecycle, unitBudget } from "./middlewares.ts";
import type { Route } from "./route.ts";
import type { HttpContext, HttpEvent, HttpResponse } from "./types.ts";
import { stateOf } from "./types.ts";

/** A Lambda handler of the HTTP API, with the route keys it serves (checked by tests/). */
export type LambdaHandler = ((event: HttpEvent, context: Context) => Promise<HttpResponse>) & {
  routes: readonly string[];
};

export interface HandlerOptions {
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

/**
 * A function's handler with its route keys; under test (DYNAMODB_CALL_LOG_DIR set) each answer
 * it gives is recorded (lib/call-log.ts), in process and under `npm start` alike.
 */
function withRoutes(
  handler: (event: HttpEvent, context: Context) => Promise<HttpResponse>,
  routes: string[],
): LambdaHandler {
  const { dynamodbCallLogDir } = config();
  const answering = dynamodbCallLogDir
    ? async (event: HttpEvent, context: Context) => {
        const response = await handler(event, context);
        const status = response.statusCode ?? 200;
        recordAnswer(dynamodbCallLogDir, event.routeKey, status, response.body);
        return response;
      }
    : handler;
  return Object.assign(answering, { routes: Object.freeze(routes) });
}

/**
 * The one middleware stack of every authenticated HTTP function: lifecycle (log line, error
 * mapping) outermost, then token verification, then the caller's rate limit and unit budget,
 * then body parsing, then the route.
 */
export function httpHandler(routes: readonly Route[], options: HandlerOptions = {}): LambdaHandler {
  const byKey = Object.fromEntries(routes.map((route) => [route.key, route]));
  const dispatch = async (event: HttpEvent, context: HttpContext): Promise<HttpResponse> => {
    const route = routeOf(byKey, event.routeKey);
    const { caller, body, correlationId, clientCorrelationId, meter } = stateOf(context);
    if (!caller) throw new Error("the authenticate middleware did not run");
    // Operators' client-credentials tokens reach only the routes that say so.
    if (route.caller !== "person-or-machine") requirePerson(caller);
    const handle = () => route.handle({ event, caller, body, correlationId, clientCorrelationId });
    return meter ? metered(handle, meter) : handle();
  };
  const stack = middy<HttpEvent, HttpResponse, Error, HttpContext>(TIMEOUT)
    .use(requestLifecycle())
    .use(authenticate())
    .use(
      options.rateLimited === false
        ? []
        : [
            rateLimit(),
            unitBudget((key) => (Object.hasOwn(byKey, key) ? byKey[key]?.maxUnits : undefined)),
          ],
    )
    .use(jsonBody())
    .handler(dispatch);
  return withRoutes(stack, Object.keys(byKey));
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

/** Declared public routes, as publicHttpHandler serves them: no caller, no body. */
export function publicRoutes(
  routes: readonly Route[],
): Record<string, (event: HttpEvent) => Promise<HttpResponse>> {
  return Object.fromEntries(
    routes.map((route) => {
      if (route.caller !== "public") throw new Error(`${route.key} is not public`);
      // A public route's handler never reads the caller: there is none.
      const nobody = undefined as unknown as Caller;
      return [
        route.key,
        (event: HttpEvent) =>
          route.handle({ event, caller: nobody, body: undefined, correlationId: "" }),
      ];
    }),
  );
}

/** The route key API Gateway gives a request no other route matches. */
export const DEFAULT_ROUTE = "$default";

/** An unmatched route: 404 in the API's error shape. */
export async function noSuchRoute(): Promise<HttpResponse> {
  throw new NotFoundError("No such route: see GET /openapi.json", "no_route");
}
