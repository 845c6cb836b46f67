/**
 * The errors a caller sees: each carries its HTTP status and errorCode (the contract's shape,
 * Auth0's). lib/http/error-mapping.ts maps the db layer's refusals and transient faults to
 * these; anything else becomes a 500 that says nothing.
 */

/**
 * Every errorCode the API answers, with its status and what a caller can do about it: one closed
 * set (as jose's JOSEErrorCode), so a new code is added here or does not compile. The messages
 * sent are specific to each refusal; these say what the code means, for the document and docs/api.md.
 */
export const ERROR_CODES = {
  invalid_body: { status: 400, meaning: "The body breaks a rule the message names; fix it" },
  invalid_json: { status: 400, meaning: "The body is not JSON" },
  invalid_unicode: { status: 400, meaning: "A string holds a lone surrogate" },
  invalid_key: { status: 400, meaning: "A key is not allowed (prototype keys, `.` or `$`)" },
  invalid_metadata: { status: 400, meaning: "Metadata breaks Auth0's rules" },
  metadata_too_large: { status: 400, meaning: "A metadata object would pass 32 kB of JSON" },
  invalid_user_id: { status: 400, meaning: "The path's user id is not one Auth0 issues" },
  invalid_query: { status: 400, meaning: "A query parameter is malformed: the message names it" },
  invalid_cursor: { status: 400, meaning: "The cursor was not issued by the API: start over" },
  invalid_idempotency_key: { status: 400, meaning: "Idempotency-Key: 1 to 255 visible ASCII" },
  invalid_checkpoint: { status: 400, meaning: "The checkpoint was not issued by GET /sync" },
  invalid_if_match: { status: 400, meaning: "If-Match is not an entity tag" },
  unknown_song: { status: 400, meaning: "songIds name a song the owner does not have" },
  invalid_played_at: {
    status: 400,
    meaning: "playedAt is in the future, over 7 days ago, or before the playlist was created",
  },
  missing_token: { status: 401, meaning: "Send Authorization: Bearer <access token>" },
  invalid_token: { status: 401, meaning: "The token is expired, malformed or not this API's" },
  insufficient_scope: { status: 403, meaning: "The token lacks the permission named" },
  user_token_required: { status: 403, meaning: "A user route called with a machine's token" },
  missing_role: { status: 403, meaning: "The stored roles do not include the one named" },
  not_featured_creator: { status: 403, meaning: "Another editor's featured playlist" },
  not_found: { status: 404, meaning: "No such item" },
  no_route: { status: 404, meaning: "No such route: see GET /openapi.json" },
  inexistent_user: { status: 404, meaning: "The user has nothing stored" },
  song_not_found: { status: 404, meaning: "The caller has no song with that id" },
  playlist_not_found: { status: 404, meaning: "No playlist with that id here" },
  conflict: { status: 409, meaning: "The stored data changed under the request: retry" },
  write_conflict: { status: 409, meaning: "Too many writes at once to one item: retry" },
  quota_exceeded: { status: 409, meaning: "The quota is reached: delete items first" },
  idempotency_key_in_use: { status: 409, meaning: "The key's first request still runs: retry" },
  account_being_deleted: { status: 409, meaning: "The account is being deleted" },
  checkpoint_expired: { status: 410, meaning: "The checkpoint is older than 30 days: pull anew" },
  precondition_failed: { status: 412, meaning: "If-Match no longer matches: read again" },
  payload_too_large: { status: 413, meaning: "The body is over 64 kB" },
  unsupported_media_type: { status: 415, meaning: "Send the body as application/json" },
  idempotency_key_reused: { status: 422, meaning: "The key was used with another body" },
  play_too_soon: { status: 429, meaning: "One play counts per cooldown: see Retry-After" },
  rate_limited: { status: 429, meaning: "Over the caller's rate: see Retry-After" },
  internal_error: { status: 500, meaning: "A fault on the API's side; nothing is revealed" },
  temporarily_unavailable: { status: 503, meaning: "Retry after Retry-After seconds" },
} as const satisfies Record<string, { status: number; meaning: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The codes answered with one status: what each error class below may carry. */
type CodeOf<Status extends number> = {
  [Code in ErrorCode]: (typeof ERROR_CODES)[Code]["status"] extends Status ? Code : never;
}[ErrorCode];

const REASONS: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  410: "Gone",
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
    readonly errorCode: ErrorCode,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadRequestError extends HttpError {
  readonly statusCode = 400;
  constructor(message: string, errorCode: CodeOf<400> = "invalid_body") {
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
  constructor(message: string, errorCode: CodeOf<403> = "insufficient_scope") {
    super(message, errorCode);
  }
}

export class NotFoundError extends HttpError {
  readonly statusCode = 404;
  constructor(message: string, errorCode: CodeOf<404> = "not_found") {
    super(message, errorCode);
  }
}

/** A sync checkpoint older than the deletions kept: the device pulls from the beginning. */
export class GoneError extends HttpError {
  readonly statusCode = 410;
  constructor(message: string) {
    super(message, "checkpoint_expired");
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
  constructor(message: string, errorCode: CodeOf<409> = "conflict", retryAfterSeconds?: number) {
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
  constructor(message: string, errorCode: CodeOf<422>) {
    super(message, errorCode);
  }
}

export class TooManyRequestsError extends HttpError {
  readonly statusCode = 429;
  constructor(message: string, errorCode: CodeOf<429>, retryAfterSeconds: number) {
    super(message, errorCode);
    this.headers["Retry-After"] = String(retryAfterSeconds);
  }
}
