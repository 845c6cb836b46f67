/**
 * The errors a caller sees: each carries its HTTP status and errorCode (the contract's shape,
 * Auth0's). lib/http/error-mapping.ts maps the db layer's refusals and transient faults to
 * these; anything else becomes a 500 that says nothing.
 */

const REASONS: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  412: "Precondition Failed",
  413: "Payload Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Entity",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

export function reasonPhrase(statusCode: number): string {
  return REASONS[statusCode] ?? "Error";
}

export abstract class HttpError extends Error {
  abstract readonly statusCode: number;
  readonly headers: Record<string, string> = {};

  constructor(
    message: string,
    readonly errorCode: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadRequestError extends HttpError {
  readonly statusCode = 400;
  constructor(message: string, errorCode = "invalid_body") {
    super(message, errorCode);
  }
}

export class UnauthorizedError extends HttpError {
  readonly statusCode = 401;
  constructor(message: string, description = message) {
    super(message, "invalid_token");
    // RFC 6750 §3: the challenge names the error; quotes are not allowed inside the description.
    this.headers["WWW-Authenticate"] =
      `Bearer error="invalid_token", error_description="${description.replaceAll('"', "'")}"`;
  }
}

export class MissingTokenError extends HttpError {
  readonly statusCode = 401;
  constructor() {
    super("Missing authentication: send Authorization: Bearer <access token>", "missing_token");
    // RFC 6750 §3.1: no error code when the request carried no credentials at all.
    this.headers["WWW-Authenticate"] = 'Bearer realm="music-api"';
  }
}

export class ForbiddenError extends HttpError {
  readonly statusCode = 403;
  constructor(message: string, errorCode = "insufficient_scope") {
    super(message, errorCode);
  }
}

export class NotFoundError extends HttpError {
  readonly statusCode = 404;
  constructor(message: string, errorCode = "not_found") {
    super(message, errorCode);
  }
}

export class PreconditionFailedError extends HttpError {
  readonly statusCode = 412;
  constructor(message = "The resource changed since it was read: fetch it again and retry") {
    super(message, "precondition_failed");
  }
}

export class PayloadTooLargeError extends HttpError {
  readonly statusCode = 413;
  constructor(limitBytes: number) {
    super(`Request body is larger than ${limitBytes} bytes`, "payload_too_large");
  }
}

/** A request body not sent as JSON: `Content-Type` missing or other than application/json. */
export class UnsupportedMediaTypeError extends HttpError {
  readonly statusCode = 415;
  constructor(message: string) {
    super(message, "unsupported_media_type");
  }
}

export class ConflictError extends HttpError {
  readonly statusCode = 409;
  /** With `retryAfterSeconds`: the same request will succeed once the other one is done. */
  constructor(message: string, errorCode = "conflict", retryAfterSeconds?: number) {
    super(message, errorCode);
    if (retryAfterSeconds !== undefined) this.headers["Retry-After"] = String(retryAfterSeconds);
  }
}

export class ServiceUnavailableError extends HttpError {
  readonly statusCode = 503;
  constructor(retryAfterSeconds = 1) {
    super("The service is temporarily unavailable; retry shortly", "temporarily_unavailable");
    this.headers["Retry-After"] = String(retryAfterSeconds);
  }
}

export class UnprocessableError extends HttpError {
  readonly statusCode = 422;
}

export class TooManyRequestsError extends HttpError {
  readonly statusCode = 429;
  constructor(message: string, errorCode: string, retryAfterSeconds: number) {
    super(message, errorCode);
    this.headers["Retry-After"] = String(retryAfterSeconds);
  }
}
