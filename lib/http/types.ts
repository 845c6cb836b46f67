import type middy from "@middy/core";
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from "aws-lambda";
import type { Caller } from "../auth/verify.ts";
import type { Meter } from "../db/capacity.ts";
import type { Reservation } from "../domain/rate-limits.ts";

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResponse = APIGatewayProxyStructuredResultV2;

/** What a route handler receives: the raw event, the verified caller and the parsed body. */
export interface HttpRequest {
  event: HttpEvent;
  caller: Caller;
  body: unknown;
  /** API Gateway's id of the request (Lambda's without one): what logs and audits join on. */
  correlationId: string;
  /** The client's X-Correlation-Id, when it sent a well-formed one; never trusted as ours. */
  clientCorrelationId?: string | undefined;
}

/** What the middlewares learn about a request, for the next ones and the route. */
export interface RequestState {
  startedAt: number;
  correlationId: string;
  clientCorrelationId?: string | undefined;
  caller?: Caller;
  body?: unknown;
  /** What the request's DynamoDB calls spend, and what it reserved of the caller's budget. */
  meter?: Meter;
  reservation?: Reservation;
  /** The RateLimit fields the answer carries (every authenticated answer). */
  rateLimitHeaders?: Record<string, string>;
}

/** Lambda's context, carrying the request's state once the lifecycle middleware has set it. */
export type HttpContext = Context & { state?: RequestState };

/** The one middleware type of the HTTP stack. */
export type HttpMiddleware = middy.MiddlewareObj<HttpEvent, HttpResponse, Error, HttpContext>;
export type MiddyRequest = middy.Request<HttpEvent, HttpResponse, Error, HttpContext>;

/** The request's state; the lifecycle middleware, outermost, always sets it first. */
export function stateOf(context: HttpContext): RequestState {
  if (!context.state) throw new Error("the request lifecycle middleware did not run");
  return context.state;
}
