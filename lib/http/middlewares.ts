import { bearerToken, verifyAccessToken } from "../auth/verify.ts";
import {
  kindOf,
  rateLimitFields,
  reserveUnits,
  settleUnits,
  spendRead,
  spendWrite,
} from "../domain/rate-limits.ts";
import { PayloadTooLargeError } from "../errors.ts";
import { parseJson } from "../json.ts";
import { hashSubject, log } from "../log.ts";
import { requireJsonContentType } from "./content-type.ts";
import { toHttpError } from "./error-mapping.ts";
import { errorResponse } from "./responses.ts";
import type { HttpEvent, HttpMiddleware, HttpResponse, MiddyRequest } from "./types.ts";
import { stateOf } from "./types.ts";

export const MAX_BODY_BYTES = 64 * 1024;

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/**
 * The request's correlation id: API Gateway's id for it (Lambda's when invoked without one),
 * never what a client sends, so that a line in an audit trail cannot be made to claim another
 * request's id.
 */
function correlationIdOf(event: HttpEvent, awsRequestId: string | undefined): string {
  return event.requestContext?.requestId ?? awsRequestId ?? "unknown";
}

/** The client's own X-Correlation-Id, when well-formed: logged beside ours, to find its calls. */
function clientCorrelationIdOf(event: HttpEvent): string | undefined {
  const fromClient = event.headers?.["x-correlation-id"];
  return fromClient && CORRELATION_ID.test(fromClient) ? fromClient : undefined;
}

/**
 * The request's headers with lower-case names, the one form every reader uses: HTTP names are
 * case-insensitive, API Gateway sends them lower-cased and an emulator or a direct invocation
 * may not. Names sent in two cases are joined with commas, as API Gateway joins repeated ones.
 */
function lowerCased(headers: HttpEvent["headers"] | undefined): Record<string, string> {
  const lower: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    lower[key] = Object.hasOwn(lower, key) ? `${lower[key]},${value}` : value;
  }
  return lower;
}

/**
 * Outermost layer: header names lower-cased (before anything reads one), correlation id, one
 * log line per request, errors mapped in one place.
 */
export function requestLifecycle(): HttpMiddleware {
  const finish = (request: MiddyRequest, response: HttpResponse): void => {
    const state = stateOf(request.context);
    request.response = {
      ...response,
      headers: {
        ...response.headers,
        ...state.rateLimitHeaders,
        "X-Correlation-Id": state.correlationId,
      },
    };
    if (!log.enabled("INFO")) return;
    log.info("request", {
      route: request.event.routeKey,
      status: response.statusCode,
      latencyMs: Math.round(performance.now() - state.startedAt),
      correlationId: state.correlationId,
      clientCorrelationId: state.clientCorrelationId,
      // API Gateway's id for the request: joins this line to the stage's access log line.
      requestId: request.event.requestContext?.requestId,
      caller: state.caller ? hashSubject(state.caller.sub) : undefined,
    });
  };
  return {
    before: (request) => {
      request.event = { ...request.event, headers: lowerCased(request.event.headers) };
      request.context.state = {
        startedAt: performance.now(),
        correlationId: correlationIdOf(request.event, request.context.awsRequestId),
        clientCorrelationId: clientCorrelationIdOf(request.event),
      };
    },
    after: (request) => {
      if (request.response) finish(request, request.response);
    },
    onError: (request) => {
      const mapped = toHttpError(request.error);
      if (!mapped) {
        const error = request.error;
        // Name and message only: a stack or a DynamoDB item must never reach a log or a client.
        log.error("unhandled error", {
          errorName: error?.name,
          errorMessage: error?.message?.slice(0, 300),
          correlationId: request.context.state?.correlationId,
        });
      }
      finish(request, errorResponse(mapped));
    },
  };
}

/** Verifies the bearer token's signature and claims with jose, whatever sits in front of us. */
export function authenticate(): HttpMiddleware {
  return {
    before: async (request) => {
      const token = bearerToken(request.event.headers?.authorization);
      stateOf(request.context).caller = await verifyAccessToken(token);
    },
  };
}

/** The caller's per-second budget (lib/domain/rate-limits.ts), before the body is even read. */
export function rateLimit(): HttpMiddleware {
  return {
    before: async (request) => {
      const { caller } = stateOf(request.context);
      if (!caller) throw new Error("the authenticate middleware did not run");
      const method = request.event.requestContext?.http?.method ?? "GET";
      // The token's iat too: a deleted account's tokens are refused here (rate-limits.ts).
      await (kindOf(method) === "reads"
        ? spendRead(caller.sub, caller.issuedAt)
        : spendWrite(caller.sub, caller.issuedAt));
    },
  };
}

/**
 * The caller's budgets in capacity units (lib/domain/rate-limits.ts): the request reserves its
 * expected cost before it runs, its DynamoDB calls are metered while it runs (the dispatch runs
 * the route under `state.meter`), and what it spent is charged after, refusal or not. Every
 * answer to a known caller carries the RateLimit fields, a 429 included.
 */
export function unitBudget(maxUnitsOf: (routeKey: string) => number | undefined): HttpMiddleware {
  const settle = async (request: MiddyRequest): Promise<void> => {
    const state = stateOf(request.context);
    if (!state.caller) return;
    if (state.reservation && state.meter) {
      const { reservation, meter } = state;
      state.reservation = undefined;
      try {
        await settleUnits(reservation, meter);
      } catch (error) {
        // The answer stands; the charge is lost (DynamoDB trouble the request itself survived).
        log.warn("unit charge failed", { errorName: (error as Error)?.name });
      }
    }
    state.rateLimitHeaders = rateLimitFields(state.caller.sub);
  };
  return {
    before: async (request) => {
      const state = stateOf(request.context);
      if (!state.caller) throw new Error("the authenticate middleware did not run");
      const method = request.event.requestContext?.http?.method ?? "GET";
      const route = request.event.routeKey;
      state.reservation = await reserveUnits(
        state.caller.sub,
        kindOf(method),
        route,
        maxUnitsOf(route),
      );
      state.meter = { read: 0, write: 0 };
    },
    after: settle,
    onError: settle,
  };
}

/**
 * Media type, size limit and prototype-safe JSON parsing, before any handler runs. A request
 * that carries a body must send it as `Content-Type: application/json` (else 415, nothing read
 * or written), on every route; one without a body (a play, a DELETE) needs no Content-Type.
 */
export function jsonBody(): HttpMiddleware {
  return {
    before: (request) => {
      const { body, isBase64Encoded } = request.event as {
        body?: unknown;
        isBase64Encoded?: boolean;
      };
      if (body === undefined || body === null || body === "") return;
      requireJsonContentType(request.event.headers?.["content-type"]);
      // API Gateway always sends text; an emulator may hand over what it parsed (a body of `0`
      // as a number): it is read as the same text.
      const text =
        typeof body !== "string"
          ? JSON.stringify(body)
          : isBase64Encoded
            ? Buffer.from(body, "base64").toString("utf8")
            : body;
      if (Buffer.byteLength(text, "utf8") > MAX_BODY_BYTES) {
        throw new PayloadTooLargeError(MAX_BODY_BYTES);
      }
      stateOf(request.context).body = parseJson(text);
    },
  };
}
