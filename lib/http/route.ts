/**
 * One declaration per route (`defineRoute`): its key, who may call it, its request parts as
 * zod/mini schemas, its responses, the error codes it may answer, its operational limits and
 * its handler. Everything else about a route follows from it: the function's dispatch
 * (lib/http/handler.ts), the OpenAPI document (lib/http/openapi.ts, at build time), the per-route
 * throttles and alarms serverless.yml reads, its sample event in events/ (from `example`), the
 * metric it counts (`counts`), and the checks of tests/integration/routes.test.ts.
 *
 * The handler gets its parts parsed and typed, path parameters by name. Each part is parsed when
 * the handler first reads it (destructuring it in the parameter list reads it), so a route still
 * decides what it checks first: a permission before the query or If-Match, as Auth0's
 * Management API does.
 */
import type * as z from "zod/mini";
import type { Caller } from "../auth/verify.ts";
import type { ErrorCode, HttpError } from "../errors.ts";
import { count } from "../metrics.ts";
import { validate } from "../validate.ts";
import { jsonResponse } from "./responses.ts";
import type { HttpEvent, HttpRequest, HttpResponse } from "./types.ts";

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
type RouteKey = `${Method} /${string}`;

/**
 * Who may call a route: a signed-in person only (a client-credentials token is 403
 * user_token_required), a person or a machine (the route's permission checks decide), or
 * anyone without a token.
 */
type CallerKind = "person" | "person-or-machine" | "public";

/** A path parameter: what a value must be, and the refusal of one that is not. */
export interface PathParam {
  schema: z.ZodMiniType<string, string>;
  /** The error a value the schema refuses gets (also listed in the document). */
  refusal: () => HttpError;
  code: ErrorCode;
  description: string;
  /** The value a route's sample event carries (decoded: the path holds it URL-encoded). */
  example: string;
  /**
   * Taken from the raw path and percent-decoded exactly once (an Auth0 user id holds `|`),
   * instead of API Gateway's `pathParameters`.
   */
  raw?: boolean;
}

/** A request header the route reads: its parser (which refuses a malformed one) and its doc. */
export interface HeaderParam<T> {
  name: string;
  read: (event: HttpEvent) => T;
  /** The codes the header brings to a route that reads it. */
  codes: readonly ErrorCode[];
  description: string;
  schema: Record<string, unknown>;
}

/** A response header: always there (`required`) or sometimes. */
type HeaderPresence = "required" | "optional";

type Answers = typeof import("../schemas/answers.ts");
/** The name of a response schema of lib/schemas/answers.ts. */
export type AnswerName = {
  [K in keyof Answers]: Answers[K] extends z.ZodMiniType ? K : never;
}[keyof Answers];

/**
 * A response body's schema, named (`"Song"`: one of lib/schemas/answers.ts, which only the
 * document's build loads, so a function builds none of the answers' schemas at cold start), or
 * given as is.
 */
type AnswerSchema = AnswerName | z.ZodMiniType;

interface ResponseDeclaration {
  /** The body's schema; none: an empty body (204). */
  schema?: AnswerSchema;
  headers?: Record<string, HeaderPresence>;
}

export type Responses = Partial<Record<200 | 201 | 204, ResponseDeclaration>>;

type BodyOf<D> = D extends { schema: infer S }
  ? S extends AnswerName
    ? z.output<Answers[S]>
    : S extends z.ZodMiniType
      ? z.output<S>
      : undefined
  : undefined;

/** A typed answer: a declared status with a body its schema describes. */
type Reply<R extends Responses> = {
  [S in keyof R & number]: {
    status: S;
    body: BodyOf<R[S]>;
    headers?: Record<string, string>;
  };
}[keyof R & number];

/**
 * A response already made, answered as is: the stored first response of an Idempotency-Key
 * (byte for byte), or a create built before its write.
 */
export interface Answered {
  answered: HttpResponse;
}

export const answered = (response: HttpResponse): Answered => ({ answered: response });

type ParamsOf<P> = { [K in keyof P]: string };

/**
 * A route's sample request, from which its event in events/ is built
 * (scripts/local/sample-events.ts); the path comes from the key and the params' examples.
 */
interface RouteExample<Q = Record<string, unknown>, B = unknown> {
  /** The body as sent (JSON), of the body schema's input type. */
  body?: B;
  /** The query string's parameters, as sent: strings (none on a route without a query). */
  query?: [Q] extends [never] ? never : { [K in keyof Q]?: string };
  /** Request headers beyond every sample's (lower-case names), such as idempotency-key. */
  headers?: Record<string, string>;
}

type InputOr<S, Fallback> = S extends z.ZodMiniType ? z.input<S> : Fallback;
type HeadersOf<H> = { [K in keyof H]: H[K] extends HeaderParam<infer T> ? T : never };
type OutputOr<S, Fallback> = S extends z.ZodMiniType ? z.output<S> : Fallback;

/** What a handler gets: the parsed parts, the caller, and the raw request for the helpers. */
interface RouteRequest<P, Q, H, B, R extends Responses> {
  /** The answer, typed by the declared response of its status. */
  respond: <S extends keyof R & number>(
    status: S,
    body: BodyOf<R[S]>,
    headers?: Record<string, string>,
  ) => Reply<R>;
  params: ParamsOf<P>;
  query: OutputOr<Q, Record<string, never>>;
  headers: HeadersOf<H>;
  body: OutputOr<B, undefined>;
  caller: Caller;
  correlationId: string;
  clientCorrelationId: string | undefined;
  event: HttpEvent;
  /** The request as lib/http/idempotency.ts reads it (the body as sent, for its hash). */
  request: HttpRequest;
}

export interface RouteDeclaration<
  P extends Record<string, PathParam>,
  Q extends z.ZodMiniType | undefined,
  H extends Record<string, HeaderParam<unknown>>,
  B extends z.ZodMiniType | undefined,
  R extends Responses,
> {
  key: RouteKey;
  /** The OpenAPI operationId. */
  id: string;
  tag: "profile" | "songs" | "playlists" | "featured" | "users" | "hooks" | "sync" | "meta";
  summary: string;
  description: string;
  caller: CallerKind;
  params?: P;
  query?: Q;
  headers?: H;
  body?: B;
  /** How the body's 400 names it ("Request body is required"). */
  bodyName?: string;
  /** The body may be left out: then the handler's `body` is undefined. */
  bodyOptional?: boolean;
  responses: R;
  /**
   * The codes this route answers beyond those of its stack and its declared parts (missing or
   * invalid token, rate limit, outage, body and path-parameter refusals).
   */
  errors?: readonly ErrorCode[];
  /** What a code means on this route, for the document, when more than ERROR_CODES says. */
  notes?: Partial<Record<ErrorCode, string>>;
  /** API Gateway's per-route limit (requests per second, burst): public routes only. */
  throttle?: { rate: number; burst: number };
  /** The p99 latency alarm's threshold (ms) when not the stage's default. */
  p99Ms?: number;
  /**
   * The most capacity units one request may cost, for a route whose cost grows with what the
   * caller holds (pages cut by cost): reserved from the caller's budget before the route first
   * runs in a container (lib/domain/rate-limits.ts), so that parallel first requests cannot
   * each start on the same units. Other routes reserve what they cost last time.
   */
  maxUnits?: number;
  /**
   * The business metric the route feeds: counted once for each 2xx it answers (a refusal or an
   * error counts nothing). Named here, not in lib/metrics.ts, which holds the code's own.
   */
  counts?: string;
  example?: RouteExample<InputOr<Q, never>, InputOr<B, never>>;
  handler: (
    request: RouteRequest<P, Q, H, B, R>,
  ) => Promise<Reply<R> | Answered> | Reply<R> | Answered;
}

/** A declaration with its types erased: what route lists, the dispatch and the document hold. */
export interface Route {
  key: RouteKey | "$default";
  id: string;
  tag: RouteDeclaration<never, never, never, never, never>["tag"];
  summary: string;
  description: string;
  caller: CallerKind;
  params?: Record<string, PathParam>;
  query?: z.ZodMiniType;
  headers?: Record<string, HeaderParam<unknown>>;
  body?: z.ZodMiniType;
  bodyName?: string;
  bodyOptional?: boolean;
  responses: Responses;
  errors?: readonly ErrorCode[];
  notes?: Partial<Record<ErrorCode, string>>;
  throttle?: { rate: number; burst: number };
  p99Ms?: number;
  maxUnits?: number;
  counts?: string;
  example?: RouteExample;
  handle: (request: HttpRequest) => Promise<HttpResponse>;
}

/** `{name}` segments by position, from the route key's path. */
function templateOf(key: string): string[] {
  return (key.split(" ")[1] ?? "").split("/");
}

function pathValue(event: HttpEvent, key: string, name: string, param: PathParam): unknown {
  if (!param.raw) return event.pathParameters?.[name];
  // Aligned from the end, so a stage prefix in front of the path changes nothing.
  const template = templateOf(key);
  const raw = event.rawPath.split("/");
  const encoded = raw[raw.length - template.length + template.indexOf(`{${name}}`)];
  if (encoded === undefined) return undefined;
  try {
    return decodeURIComponent(encoded);
  } catch {
    return undefined; // malformed percent-encoding: refused like any other bad value
  }
}

function readParams(event: HttpEvent, key: string, params: Record<string, PathParam>) {
  const values: Record<string, string> = {};
  for (const [name, param] of Object.entries(params)) {
    const value = pathValue(event, key, name, param);
    if (typeof value !== "string") throw param.refusal();
    const result = param.schema["~standard"].validate(value);
    if (result instanceof Promise || result.issues) throw param.refusal();
    values[name] = result.value;
  }
  return values;
}

function toResponse(reply: { status: number; body: unknown; headers?: Record<string, string> }) {
  return jsonResponse(reply.status, reply.body, reply.headers);
}

/** Each part parsed once, when first read. */
function lazy<T>(make: () => T): () => T {
  let done = false;
  let value: T;
  return () => {
    if (!done) {
      value = make();
      done = true;
    }
    return value;
  };
}

export function defineRoute<
  P extends Record<string, PathParam> = Record<never, PathParam>,
  Q extends z.ZodMiniType | undefined = undefined,
  H extends Record<string, HeaderParam<unknown>> = Record<never, HeaderParam<unknown>>,
  B extends z.ZodMiniType | undefined = undefined,
  R extends Responses = Responses,
>(declaration: RouteDeclaration<P, Q, H, B, R>): Route {
  const { handler, ...facts } = declaration;
  const { key, params = {}, query, headers = {}, body, bodyName, bodyOptional, counts } = facts;
  return {
    ...facts,
    handle: async (request) => {
      const { event } = request;
      const params_ = lazy(() => readParams(event, key, params));
      const query_ = lazy(() =>
        query
          ? validate<unknown>(
              query as never,
              event.queryStringParameters ?? {},
              "Query",
              "invalid_query",
            )
          : {},
      );
      const headers_ = lazy(() =>
        Object.fromEntries(
          Object.entries(headers as Record<string, HeaderParam<unknown>>).map(([name, header]) => [
            name,
            header.read(event),
          ]),
        ),
      );
      const body_ = lazy(() =>
        body && !(bodyOptional && request.body === undefined)
          ? validate<unknown>(body as never, request.body, bodyName)
          : undefined,
      );
      const parts = {
        caller: request.caller,
        correlationId: request.correlationId,
        clientCorrelationId: request.clientCorrelationId,
        event,
        request,
        get params() {
          return params_();
        },
        get query() {
          return query_();
        },
        get headers() {
          return headers_();
        },
        get body() {
          return body_();
        },
        respond: (status: number, body: unknown, headers?: Record<string, string>) => ({
          status,
          body,
          headers,
        }),
      } as unknown as RouteRequest<P, Q, H, B, R>;
      const reply = await handler(parts);
      const response = "answered" in reply ? reply.answered : toResponse(reply);
      const status = response.statusCode ?? 200;
      if (counts && status >= 200 && status < 300) count(counts);
      return response;
    },
  };
}
