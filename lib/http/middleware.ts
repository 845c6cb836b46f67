import type middy from "@middy/core";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { bearerToken, type Caller, verifyAccessToken } from "../auth/verify.ts";
import { isTransient } from "../db/errors.ts";
import { Refused } from "../db/refusals.ts";
import { hashSubject, log } from "../log.ts";
import { RetriesExhausted } from "../retry.ts";
import {
  ConflictError,
  HttpError,
  NotFoundError,
  PayloadTooLargeError,
  PreconditionFailedError,
  reasonPhrase,
  ServiceUnavailableError,
} from "./errors.ts";
import { parseJson } from "./json.ts";

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResponse = APIGatewayProxyStructuredResultV2;

/** What a route handler receives: the raw event, the verified caller and the parsed body. */
export interface HttpRequest {
  event: HttpEvent;
  caller: Caller;
  body: unknown;
  correlationId: string;
}

export interface RequestState {
  startedAt: number;
  correlationId: string;
  caller?: Caller;
  body?: unknown;
}

type Request = middy.Request<HttpEvent, HttpResponse, Error, RequestStateContext>;
export type RequestStateContext = import("aws-lambda").Context & { state: RequestState };

export const MAX_BODY_BYTES = 64 * 1024;

const BASE_HEADERS = {
  "Content-Type": "application/json; charset=utf-8",
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
};

export function jsonResponse(
  statusCode: number,
  body?: unknown,
  headers: Record<string, string> = {},
): HttpResponse {
  return {
    statusCode,
    headers: { ...BASE_HEADERS, ...headers },
    body: body === undefined ? "" : JSON.stringify(body),
  };
}

/** The contract's error object (Auth0's shape); without an HttpError, the bare 500. */
export function errorBody(error: HttpError | undefined) {
  if (!error) {
    return {
      statusCode: 500,
      error: reasonPhrase(500),
      message: "Internal error; the request may be retried",
      errorCode: "internal_error",
    };
  }
  return {
    statusCode: error.statusCode,
    error: reasonPhrase(error.statusCode),
    message: error.message,
    errorCode: error.errorCode,
  };
}

export function errorResponse(error: HttpError): HttpResponse {
  return jsonResponse(error.statusCode, errorBody(error), error.headers);
}

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,100}$/;

function correlationIdOf(event: HttpEvent, awsRequestId: string | undefined): string {
  const fromClient = event.headers?.["x-correlation-id"];
  if (fromClient && CORRELATION_ID.test(fromClient)) return fromClient;
  return awsRequestId ?? event.requestContext?.requestId ?? "unknown";
}

/** What a refusal from the db layer means to a caller, when the route did not say otherwise. */
function refusalError(error: Refused): HttpError {
  switch (error.reason) {
    case "deleting":
      return new ConflictError(
        "This account is being deleted; send the DELETE again to finish it",
        "account_being_deleted",
      );
    case "precondition":
      return new PreconditionFailedError();
    case "not_found":
      return new NotFoundError(error.detail ?? "The user does not exist", "inexistent_user");
    case "quota":
      return new ConflictError(
        error.detail ?? "Quota reached: delete some items before adding more",
        "quota_exceeded",
      );
    default:
      return new ConflictError("The request conflicts with the stored data; retry", "conflict");
  }
}

/** Every error becomes an HttpError; anything unexpected is a 500 that reveals nothing. */
export function toHttpError(error: unknown): HttpError | undefined {
  if (error instanceof HttpError) return error;
  if (error instanceof Refused) return refusalError(error);
  if (error instanceof RetriesExhausted) {
    return new ConflictError(
      "The data is being changed by many requests at once; retry",
      "write_conflict",
    );
  }
  if (isTransient(error)) return new ServiceUnavailableError(1);
  return undefined;
}

const INTERNAL_ERROR = jsonResponse(500, errorBody(undefined));

/** Outermost layer: correlation id, one log line per request, errors mapped in one place. */
export function requestLifecycle(): middy.MiddlewareObj<
  HttpEvent,
  HttpResponse,
  Error,
  RequestStateContext
> {
  const finish = (request: Request): void => {
    const state = request.context.state;
    const response = request.response as HttpResponse;
    response.headers = { ...response.headers, "X-Correlation-Id": state.correlationId };
    if (!log.enabled("INFO")) return;
    log.info("request", {
      route: request.event.routeKey,
      status: response.statusCode,
      latencyMs: Math.round(performance.now() - state.startedAt),
      correlationId: state.correlationId,
      caller: state.caller ? hashSubject(state.caller.sub) : undefined,
    });
  };
  return {
    before: (request) => {
      request.context.state = {
        startedAt: performance.now(),
        correlationId: correlationIdOf(request.event, request.context.awsRequestId),
      };
    },
    after: finish,
    onError: (request) => {
      const mapped = toHttpError(request.error);
      if (mapped) {
        request.response = errorResponse(mapped);
      } else {
        const error = request.error;
        // Name and message only: a stack or a DynamoDB item must never reach a log or a client.
        log.error("unhandled error", {
          errorName: error?.name,
          errorMessage: error?.message?.slice(0, 300),
          correlationId: request.context.state?.correlationId,
        });
        request.response = { ...INTERNAL_ERROR, headers: { ...INTERNAL_ERROR.headers } };
      }
      finish(request);
    },
  };
}

/** Verifies the bearer token's signature and claims with jose, whatever sits in front of us. */
export function authenticate(): middy.MiddlewareObj<
  HttpEvent,
  HttpResponse,
  Error,
  RequestStateContext
> {
  return {
    before: async (request) => {
      const headers = request.event.headers ?? {};
      const token = bearerToken(headers.authorization ?? headers.Authorization);
      request.context.state.caller = await verifyAccessToken(token);
    },
  };
}

/**
 * Size limit and prototype-safe JSON parsing, before any handler runs. The body is read as JSON
 * whatever its Content-Type says: clients (and curl's default) are not always precise.
 */
export function jsonBody(): middy.MiddlewareObj<
  HttpEvent,
  HttpResponse,
  Error,
  RequestStateContext
> {
  return {
    before: (request) => {
      const { body, isBase64Encoded } = request.event;
      if (body === undefined || body === null || body === "") return;
      const text = isBase64Encoded ? Buffer.from(body, "base64").toString("utf8") : body;
      if (Buffer.byteLength(text, "utf8") > MAX_BODY_BYTES) {
        throw new PayloadTooLargeError(MAX_BODY_BYTES);
      }
      request.context.state.body = parseJson(text);
    },
  };
}
