import middy from "@middy/core";
import type { Context } from "aws-lambda";
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

export type RouteHandler = (request: HttpRequest) => Promise<HttpResponse>;

/** Route handlers of one Lambda, keyed by the HTTP API route key, e.g. "GET /songs/{songId}". */
export type Routes = Record<string, RouteHandler>;

/**
 * The one middleware stack of every authenticated HTTP function: lifecycle (log line, error
 * mapping) outermost, then token verification, then body parsing, then the route.
 */
export function httpHandler(
  routes: Routes,
): (event: HttpEvent, context: Context) => Promise<HttpResponse> {
  const dispatch = async (
    event: HttpEvent,
    context: RequestStateContext,
  ): Promise<HttpResponse> => {
    const route = routes[event.routeKey];
    const { caller, body, correlationId } = context.state;
    if (!route || !caller) throw new NotFoundError(`No route ${event.routeKey}`, "no_route");
    return route({ event, caller, body, correlationId });
  };
  return middy<HttpEvent, HttpResponse, Error, RequestStateContext>()
    .use(requestLifecycle())
    .use(authenticate())
    .use(jsonBody())
    .handler(dispatch) as unknown as (event: HttpEvent, context: Context) => Promise<HttpResponse>;
}

/** Reads a path parameter that the route declares; a missing one means the route table is wrong. */
export function pathParameter(event: HttpEvent, name: string): string {
  const value = event.pathParameters?.[name];
  if (value === undefined || value === "") {
    throw new NotFoundError(`Missing path parameter ${name}`, "no_route");
  }
  return value;
}
