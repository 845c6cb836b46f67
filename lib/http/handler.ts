import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { requirePerson } from "../domain/access.ts";
import { NotFoundError } from "./errors.ts";
import {
  authenticate,
  type HttpEvent,
  type HttpRequest,
  type HttpResponse,
  jsonBody,
  type RequestStateContext,
  requestLifecycle,
} from "./middleware.ts";

export type LambdaHandler = (event: HttpEvent, context: Context) => Promise<HttpResponse>;

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

/**
 * The one middleware stack of every authenticated HTTP function: lifecycle (log line, error
 * mapping) outermost, then token verification, then body parsing, then the route.
 */
export function httpHandler(routes: Routes, options: HandlerOptions = {}): LambdaHandler {
  const dispatch = async (
    event: HttpEvent,
    context: RequestStateContext,
  ): Promise<HttpResponse> => {
    // Own properties only: a routeKey such as "constructor" is no route.
    const route = Object.hasOwn(routes, event.routeKey) ? routes[event.routeKey] : undefined;
    if (!route) throw new NotFoundError("No such route", "no_route");
    const { caller, body, correlationId } = context.state;
    if (!caller) throw new Error("the authenticate middleware did not run");
    if (!options.machines) requirePerson(caller);
    return route({ event, caller, body, correlationId });
  };
  return middy<HttpEvent, HttpResponse, Error, RequestStateContext>()
    .use(requestLifecycle())
    .use(authenticate())
    .use(jsonBody())
    .handler(dispatch) as unknown as LambdaHandler;
}

/** The same stack without authentication, for the few documents anyone may read. */
export function publicHttpHandler(
  route: (event: HttpEvent) => Promise<HttpResponse>,
): LambdaHandler {
  return middy<HttpEvent, HttpResponse, Error, RequestStateContext>()
    .use(requestLifecycle())
    .handler((event: HttpEvent) => route(event)) as unknown as LambdaHandler;
}
