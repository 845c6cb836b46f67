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

export type LambdaHandler = (event: HttpEvent, context: Context) => Promise<HttpResponse>;

export type RouteHandler = (request: HttpRequest) => Promise<HttpResponse>;

/** Route handlers of one Lambda, keyed by the HTTP API route key, e.g. "GET /songs/{songId}". */
export type Routes = Record<string, RouteHandler>;

/**
 * The one middleware stack of every authenticated HTTP function: lifecycle (log line, error
 * mapping) outermost, then token verification, then body parsing, then the route.
 */
export function httpHandler(routes: Routes): LambdaHandler {
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
