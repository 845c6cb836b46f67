import { type ErrorCode, type HttpError, reasonPhrase } from "../errors.ts";
import type { HttpResponse } from "./types.ts";

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
      errorCode: "internal_error" as ErrorCode,
    };
  }
  return {
    statusCode: error.statusCode,
    error: reasonPhrase(error.statusCode),
    message: error.message,
    errorCode: error.errorCode,
  };
}

/** An error as the response a client sees; undefined: the bare 500, which reveals nothing. */
export function errorResponse(error: HttpError | undefined): HttpResponse {
  return jsonResponse(error?.statusCode ?? 500, errorBody(error), error?.headers ?? {});
}
