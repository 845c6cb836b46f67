/**
 * The OpenAPI 3.1 document, built from the route declarations (lib/http/route.ts) at build time:
 * `npm run openapi` writes docs/openapi.json, which GET /openapi.json serves as is. Each
 * operation's parameters, body, responses and error codes are what its declaration says, with
 * what the middleware stack adds for every route (token, rate limit, JSON body, outage).
 */
import * as z from "zod/mini";
import { ERROR_CODES, type ErrorCode } from "../errors.ts";
import * as answers from "../schemas/answers.ts";
import { documentedAs } from "../schemas/index.ts";
import type { AnswerName, Route } from "./route.ts";

type Schema = z.ZodMiniType;

function jsonSchema(schema: Schema, io: "input" | "output"): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, {
    io,
    unrepresentable: "any",
    override: ({ zodSchema, jsonSchema }) => {
      const documented = documentedAs.get(zodSchema as unknown as Schema);
      if (!documented) return;
      for (const key of Object.keys(jsonSchema)) delete jsonSchema[key];
      Object.assign(jsonSchema, documented);
    },
  }) as Record<string, unknown>;
  return rest;
}

const HEADERS = {
  "X-Correlation-Id": {
    description:
      "The request's correlation id: API Gateway's id of it (a client's own X-Correlation-Id is logged beside it, not used)",
    schema: { type: "string" },
  },
  "Retry-After": { description: "Seconds to wait before retrying", schema: { type: "integer" } },
  "RateLimit-Policy": {
    description:
      'The caller\'s budgets in capacity units (draft-ietf-httpapi-ratelimit-headers): `q` the burst, e.g. `"reads";q=200;w=1, "writes";q=100;w=1`. On every answer to a known caller.',
    schema: { type: "string" },
  },
  RateLimit: {
    description:
      'What remains of each budget after this request (`r`) and the seconds until it is full again (`t`), e.g. `"reads";r=187;t=1, "writes";r=100;t=0`. On every answer to a known caller.',
    schema: { type: "string" },
  },
  "WWW-Authenticate": {
    description: "The Bearer challenge (RFC 6750), with the error when a token was sent",
    schema: { type: "string" },
  },
  ETag: { description: 'The profile\'s strong ETag, e.g. "3"', schema: { type: "string" } },
  "Idempotent-Replayed": {
    description: "true when this is the stored first response to this Idempotency-Key",
    schema: { type: "string", enum: ["true"] },
  },
} as const;
type HeaderName = keyof typeof HEADERS;
/**
 * Response headers: X-Correlation-Id always, the RateLimit fields whenever the caller is known;
 * `required` ones always there, `optional` may be.
 */
const headers = (required: HeaderName[] = [], optional: HeaderName[] = []) => ({
  ...Object.fromEntries(
    ["X-Correlation-Id" as const, ...required].map((n) => [n, { ...HEADERS[n], required: true }]),
  ),
  ...Object.fromEntries(
    [...optional, "RateLimit-Policy" as const, "RateLimit" as const].map((n) => [n, HEADERS[n]]),
  ),
});

/**
 * An error status of an operation: the Error object, its errorCode narrowed to the codes this
 * route answers with this status (what the suite's answers are held to: tests/deploy/answers.test.ts).
 */
const errorResponse = (
  description: string,
  codes: readonly ErrorCode[],
  required: HeaderName[] = [],
  optional: HeaderName[] = [],
) => ({
  description,
  headers: headers(required, optional),
  content: {
    "application/json": {
      schema: {
        allOf: [
          { $ref: "#/components/schemas/Error" },
          {
            type: "object",
            properties: { errorCode: { type: "string", enum: codes } },
            required: ["errorCode"],
          },
        ],
      },
    },
  },
});

/** What the stack answers on every route a token must reach: the codes it adds. */
const AUTHENTICATED: ErrorCode[] = ["missing_token", "invalid_token", "rate_limited"];
/**
 * What the stack's JSON reading (lib/http/middlewares.ts: jsonBody, lib/json.ts) answers for
 * any body it is sent, before a route's schema reads it: declared or not.
 */
const JSON_TEXT: ErrorCode[] = [
  "invalid_json",
  "invalid_unicode",
  "invalid_key",
  "payload_too_large",
  "unsupported_media_type",
];

/** Every code a route may answer, in ERROR_CODES' order: declared, and from its parts. */
function codesOf(route: Route, method: string): ErrorCode[] {
  const codes = new Set<ErrorCode>(route.errors ?? []);
  const add = (list: readonly ErrorCode[]) => {
    for (const code of list) codes.add(code);
  };
  if (route.caller !== "public") add(AUTHENTICATED);
  if (route.caller === "person") codes.add("user_token_required");
  if (route.query) codes.add("invalid_query");
  if (route.body) add(["invalid_body", ...JSON_TEXT]);
  // Any body is read as JSON, declared or not; POST, PUT and PATCH are the ones that may carry one.
  else if (route.caller !== "public" && ["POST", "PUT", "PATCH"].includes(method)) {
    add(JSON_TEXT);
  }
  for (const param of Object.values(route.params ?? {})) codes.add(param.code);
  for (const header of Object.values(route.headers ?? {})) add(header.codes);
  codes.add("temporarily_unavailable");
  return (Object.keys(ERROR_CODES) as ErrorCode[]).filter((code) => codes.has(code));
}

/** What each error status means, before the codes it lists. */
const STATUS_TEXT: Record<number, string> = {
  400: "Bad input, nothing written",
  401: "Missing or invalid access token",
  403: "Not allowed",
  404: "Not found; another user's item is not found either",
  409: "Conflict, nothing written",
  412: "If-Match no longer matches; nothing changed",
  413: "Body over 64 kB",
  415: "The body was not sent as Content-Type: application/json; nothing written",
  422: "Unprocessable, nothing written",
  429: "Too many requests, nothing done; retry after Retry-After",
  503: "Temporarily unavailable: DynamoDB, the issuer's keys or time ran out; retry after Retry-After",
};
const STATUS_HEADERS: Record<number, [HeaderName[], HeaderName[]]> = {
  401: [["WWW-Authenticate"], []],
  409: [[], ["Retry-After"]],
  429: [["Retry-After"], []],
  503: [["Retry-After"], []],
};

/** What a body-less route says of its 415 (CONTRACT: a request without a body needs none). */
const BODYLESS = "this route needs no body: send none, or send it as JSON";

function errorResponses(route: Route, method: string) {
  const byStatus = new Map<number, { codes: ErrorCode[]; lines: string[] }>();
  for (const code of codesOf(route, method)) {
    const { status, meaning } = ERROR_CODES[code];
    const note =
      route.notes?.[code] ??
      (code === "unsupported_media_type" && !route.body ? BODYLESS : undefined);
    const line = `\`${code}\`: ${meaning}${note ? ` (${note})` : ""}`;
    const entry = byStatus.get(status) ?? { codes: [], lines: [] };
    entry.codes.push(code);
    entry.lines.push(line);
    byStatus.set(status, entry);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, { codes, lines }]) => {
      const [required, optional] = STATUS_HEADERS[status] ?? [[], []];
      const text = `${STATUS_TEXT[status] ?? "Error"}. ${lines.join("; ")}`;
      return [status, errorResponse(text, codes, required, optional)];
    }),
  );
}

/** The query parameters of a declared query schema: its properties, with their descriptions. */
function queryParameters(query: Schema) {
  const schema = jsonSchema(query, "input") as {
    properties?: Record<string, Record<string, unknown>>;
    required?: string[];
  };
  return Object.entries(schema.properties ?? {}).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: "query",
      ...(schema.required?.includes(name) ? { required: true } : {}),
      ...(description ? { description } : {}),
      schema: rest,
    };
  });
}

/** A response schema, by its name in lib/schemas/answers.ts or as given. */
function loaded(schema: AnswerName | Schema): Schema {
  // Build time only (no function loads this module), and every answer is wanted: nothing to shake.
  // biome-ignore lint/performance/noDynamicNamespaceImportAccess: a declaration names its answer
  return typeof schema === "string" ? answers[schema] : schema;
}

function operation(route: Route) {
  const [method = ""] = route.key.split(" ");
  const parameters: unknown[] = [
    ...Object.entries(route.params ?? {}).map(([name, param]) => ({
      name,
      in: "path",
      required: true,
      description: param.description,
      schema: jsonSchema(param.schema, "input"),
    })),
    ...(route.query ? queryParameters(route.query) : []),
    ...Object.values(route.headers ?? {}).map((header) => ({
      name: header.name,
      in: "header",
      description: header.description,
      schema: header.schema,
    })),
  ];
  const successes = Object.entries(route.responses).map(([status, response]) => {
    const declared = Object.entries(response?.headers ?? {});
    const required = declared.filter(([, p]) => p === "required").map(([n]) => n as HeaderName);
    const optional = declared.filter(([, p]) => p === "optional").map(([n]) => n as HeaderName);
    return [
      status,
      {
        description: "Success",
        headers: headers(required, optional),
        ...(response?.schema
          ? {
              content: {
                "application/json": { schema: jsonSchema(loaded(response.schema), "output") },
              },
            }
          : {}),
      },
    ];
  });
  return {
    operationId: route.id,
    tags: [route.tag],
    summary: route.summary,
    description: route.description,
    ...(route.caller === "public" ? { security: [] } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(route.body
      ? {
          requestBody: {
            required: !route.bodyOptional,
            content: { "application/json": { schema: jsonSchema(route.body, "input") } },
          },
        }
      : {}),
    responses: { ...Object.fromEntries(successes), ...errorResponses(route, method) },
  };
}

/** The document of these routes (every function's declarations; scripts/openapi.ts). */
export function openApiDocument(routes: readonly Route[], serverUrl?: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    if (route.key === "$default") continue;
    const [method = "", path = ""] = route.key.split(" ");
    paths[path] = { ...paths[path], [method.toLowerCase()]: operation(route) };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Music user-data API",
      version: "1.0.0",
      description: "User data of the music app: Auth0-style metadata, songs, playlists, plays.",
      license: { name: "Proprietary", identifier: "LicenseRef-Proprietary" },
      contact: { name: "The music user-data API team" },
    },
    servers: serverUrl
      ? [{ url: serverUrl }]
      : [
          { url: "http://127.0.0.1:3000", description: "npm start" },
          {
            url: "https://{apiId}.execute-api.{region}.amazonaws.com",
            description: "Deployed (serverless deploy prints the address)",
            variables: {
              apiId: { default: "a1b2c3d4e5", description: "The HTTP API's id" },
              region: { default: "us-east-1", description: "The AWS region" },
            },
          },
        ],
    tags: [
      { name: "profile", description: "The caller's display name and favourite genre" },
      { name: "songs", description: "The caller's songs" },
      { name: "playlists", description: "The caller's playlists and plays" },
      { name: "featured", description: "Featured playlists: read by all, edited by editors" },
      { name: "users", description: "Profiles with Auth0's metadata semantics" },
      { name: "hooks", description: "The post-login hook the Auth0 Action calls" },
      {
        name: "sync",
        description: "Offline devices: pull changes since a checkpoint, push merged",
      },
      { name: "meta", description: "This document" },
    ],
    security: [{ bearerAuth: [] }],
    components: {
      securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
      schemas: {
        Error: {
          ...jsonSchema(answers.ErrorBody, "output"),
          description: `Every error the API answers. errorCode is one of:\n\n${Object.entries(
            ERROR_CODES,
          )
            .map(([code, { status, meaning }]) => `- \`${code}\` (${status}): ${meaning}`)
            .join("\n")}`,
        },
      },
    },
    paths,
  };
}
