import type { Context } from "aws-lambda";
import type { HttpEvent, HttpResponse } from "../../lib/http/middleware.ts";

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
