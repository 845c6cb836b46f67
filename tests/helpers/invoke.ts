import { AsyncLocalStorage } from "node:async_hooks";
import type { Context } from "aws-lambda";
import type { HttpEvent, HttpResponse } from "../../lib/http/types.ts";
import { attributeCallsWith } from "../../lib/instrumentation/call-log.ts";
import { loadHttpRoutes } from "../../scripts/local/serverless-config.ts";

export { type EventChanges, httpEvent, loadEvent } from "../../scripts/local/events.ts";

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

/**
 * Which function an in-process invocation belongs to, so that the DynamoDB calls it makes are
 * recorded against that function's IAM role (lib/instrumentation/call-log.ts, tests/deploy/iam.test.ts).
 */
const invoking = new AsyncLocalStorage<string>();
attributeCallsWith(() => invoking.getStore());
let functionOfRoute: Map<string, string> | undefined;

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

export async function invoke(handler: Handler, event: HttpEvent): Promise<Result> {
  const response = await asFunction(functionOf(event), () => handler(event, lambdaContext()));
  const headers = Object.fromEntries(
    Object.entries(response.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]),
  );
  return {
    statusCode: response.statusCode ?? 200,
    headers,
    body: response.body ? JSON.parse(response.body) : undefined,
  };
}
