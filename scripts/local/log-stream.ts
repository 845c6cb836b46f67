/**
 * The local tenant's log stream: what Auth0's log stream to Amazon EventBridge delivers when a
 * user is deleted (an `sdu` log event in EventBridge's envelope), sent to the auth0LogStream
 * function on the local Lambda Invoke API (LAMBDA_PORT), asynchronously, a moment after the
 * deletion, as Auth0's stream arrives after the Management API answered.
 */
import { randomUUID } from "node:crypto";

/** Auth0's `sdu` (successful user deletion) log event as EventBridge delivers it. */
export function sduEvent(userId: string, date = new Date()) {
  const logId = randomUUID().replaceAll("-", "");
  return {
    version: "0",
    id: randomUUID(),
    "detail-type": "Auth0 log",
    source: "aws.partner/auth0.com/local-tenant/auth0.logs",
    account: "000000000000",
    time: date.toISOString(),
    region: "us-east-1",
    resources: [],
    detail: {
      log_id: logId,
      data: {
        date: date.toISOString(),
        type: "sdu",
        description: "Deleted user",
        connection: userId.split("|")[0],
        user_id: userId,
        log_id: logId,
      },
    },
  };
}

/** How long after a deletion the local stream delivers its event. */
const DELIVERY_DELAY_MS = 1_000;

/**
 * Sends the `sdu` event of `userId` to `functionName` on the Lambda Invoke API at `lambdaUrl`,
 * after a moment, as an asynchronous invocation (InvocationType Event, as EventBridge invokes).
 */
export function streamDeletion(lambdaUrl: string, functionName: string, userId: string): void {
  const event = sduEvent(userId);
  setTimeout(() => {
    fetch(`${lambdaUrl}/2015-03-31/functions/${functionName}/invocations`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-amz-invocation-type": "Event" },
      body: JSON.stringify(event),
    }).catch((error: Error) => {
      console.error(`[tenant] the log stream could not deliver an sdu event (${error.name})`);
    });
  }, DELIVERY_DELAY_MS).unref();
}
