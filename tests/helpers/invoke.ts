import { AsyncLocalStorage } from "node:async_hooks";
import type { Context } from "aws-lambda";
import type { HttpEvent, HttpResponse } from "../../lib/http/types.ts";
import { attributeCallsWith } from "../../lib/instrumentation/call-log.ts";
import { loadHttpRoutes, loadServerlessConfig } from "../../scripts/local/serverless-config.ts";

export { type EventChanges, httpEvent, loadEvent } from "../../scripts/local/events.ts";

/** `timeoutMs`: what the invocation has left at its start (a function's whole timeout). */
export function lambdaContext(timeoutMs = 10_000): Context {
  return {
    awsRequestId: `test-${Math.random().toString(36).slice(2)}`,
    callbackWaitsForEmptyEventLoop: false,
    functionName: "test",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:test",
    memoryLimitInMB: "512",
    logGroupName: "/aws/lambda/test",
    logStreamName: "test",
    getRemainingTimeInMillis: () => timeoutMs,
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

/**
 * Which function an in-process invocation belongs to, so that the DynamoDB calls it makes are
 * recorded against that function's IAM role (lib/instrumentation/call-log.ts, tests/deploy/iam.test.ts).
 */
const invoking = new AsyncLocalStorage<string>();
attributeCallsWith(() => invoking.getStore());
let functionOfRoute: Map<string, string> | undefined;
let timeoutsMs: Map<string, number> | undefined;

export function asFunction<T>(name: string, work: () => Promise<T>): Promise<T> {
  return invoking.run(name, work);
}

function functionOf(event: HttpEvent): string {
  functionOfRoute ??= new Map(
    Object.entries(loadHttpRoutes()).flatMap(([fn, routes]) => routes.map((r) => [r, fn])),
  );
  const fn = functionOfRoute.get(event.routeKey);
  if (!fn) throw new Error(`no function serves ${event.routeKey} in serverless.yml`);
  return fn;
}

/**
 * The function's timeout in serverless.yml, as Lambda gives it: 29 s for `users` (an account's
 * deletion, the export), else the provider's 10 s. A request that outlives it answers 503
 * (lib/http/handler.ts), as it would deployed: never sooner than there.
 */
function timeoutMsOf(fn: string): number {
  if (!timeoutsMs) {
    const { provider, functions } = loadServerlessConfig();
    timeoutsMs = new Map(
      Object.entries(functions).map(([name, f]) => [
        name,
        (f.timeout ?? provider.timeout ?? 10) * 1_000,
      ]),
    );
  }
  return timeoutsMs.get(fn) ?? 10_000;
}

export async function invoke(handler: Handler, event: HttpEvent): Promise<Result> {
  const fn = functionOf(event);
  const response = await asFunction(fn, () => handler(event, lambdaContext(timeoutMsOf(fn))));
  const headers = Object.fromEntries(
    Object.entries(response.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]),
  );
  return {
    statusCode: response.statusCode ?? 200,
    headers,
    body: response.body ? JSON.parse(response.body) : undefined,
  };
}
