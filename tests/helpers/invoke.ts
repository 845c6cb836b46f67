import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Context } from "aws-lambda";
import type { HttpEvent, HttpResponse } from "../../lib/http/middleware.ts";
import { ROOT } from "../../scripts/local/serverless-config.ts";

/** A sample event from events/, as `serverless invoke local -p` would send it. */
export function loadEvent(name: string): HttpEvent {
  return JSON.parse(readFileSync(join(ROOT, "events", `${name}.json`), "utf8")) as HttpEvent;
}

export interface EventChanges {
  token?: string | null;
  body?: unknown;
  rawBody?: string;
  pathParameters?: Record<string, string>;
  rawPath?: string;
  query?: Record<string, string>;
  /** Header changes; `null` removes a header the fixture carries. */
  headers?: Record<string, string | null>;
}

/** A fixture varied in the fields a test cares about; everything else stays as captured. */
export function httpEvent(name: string, changes: EventChanges = {}): HttpEvent {
  const event = loadEvent(name);
  const headers: Record<string, string | undefined> = { ...event.headers };
  for (const [name, value] of Object.entries(changes.headers ?? {})) {
    if (value === null) delete headers[name];
    else headers[name] = value;
  }
  if (changes.token === null) delete headers.authorization;
  else if (changes.token !== undefined) headers.authorization = `Bearer ${changes.token}`;
  return {
    ...event,
    headers,
    ...(changes.body !== undefined ? { body: JSON.stringify(changes.body) } : {}),
    ...(changes.rawBody !== undefined ? { body: changes.rawBody } : {}),
    ...(changes.pathParameters ? { pathParameters: changes.pathParameters } : {}),
    ...(changes.rawPath ? { rawPath: changes.rawPath } : {}),
    ...(changes.query
      ? {
          queryStringParameters: changes.query,
          rawQueryString: new URLSearchParams(changes.query).toString(),
        }
      : {}),
  };
}

export function lambdaContext(): Context {
  return {
    awsRequestId: `test-${Math.random().toString(36).slice(2)}`,
    callbackWaitsForEmptyEventLoop: false,
    functionName: "test",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:test",
    memoryLimitInMB: "512",
    logGroupName: "/aws/lambda/test",
    logStreamName: "test",
    getRemainingTimeInMillis: () => 10_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export interface Result {
  statusCode: number;
  headers: Record<string, string>;
  // biome-ignore lint/suspicious/noExplicitAny: a JSON response body, read by assertions.
  body: any;
}

type Handler = (event: HttpEvent, context: Context) => Promise<HttpResponse>;

export async function invoke(handler: Handler, event: HttpEvent): Promise<Result> {
  const response = await handler(event, lambdaContext());
  const headers = Object.fromEntries(
    Object.entries(response.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]),
  );
  return {
    statusCode: response.statusCode ?? 200,
    headers,
    body: response.body ? JSON.parse(response.body) : undefined,
  };
}
