/**
 * Deleted in Auth0 (CONTRACT: Auth0 and the store in step): Auth0's log stream to Amazon
 * EventBridge delivers each tenant log event; this function, on a rule of the partner event bus
 * (serverless.yml, stage parameter auth0EventSource), erases the user's data on `sdu`
 * (successful user deletion) as `DELETE /users/{userId}` does, without calling Auth0 back, and
 * ignores every other log type. Locally it is invoked on LAMBDA_PORT (the local tenant sends it
 * the same event when it deletes a user).
 *
 * Retries: a malformed event is logged and dropped (answered, never thrown), so it is never
 * retried; a failure while erasing throws, and Lambda's asynchronous retries (two, within the
 * event age serverless.yml sets) try again: the deletion resumes where it stopped.
 */
import type { Context } from "aws-lambda";
import * as z from "zod/mini";
import { eraseDeletedAuth0User } from "../lib/domain/account.ts";
import { isWellFormed } from "../lib/json.ts";
import { audit, log } from "../lib/log.ts";

/** EventBridge's envelope with Auth0's log in `detail.data`: the parts read here. */
const LogStreamEvent = z.looseObject({
  id: z.optional(z.string()),
  detail: z.looseObject({
    data: z.looseObject({
      type: z.string(),
      user_id: z.optional(z.string()),
      date: z.optional(z.string()),
    }),
  }),
});

/** What became of one event, for the log line and the tests. */
export type LogStreamOutcome =
  | "erased"
  | "nothing_stored"
  | "newer_account"
  | "ignored"
  | "dropped";

export async function handler(event: unknown, context?: Context): Promise<LogStreamOutcome> {
  const correlationId = context?.awsRequestId ?? "direct";
  const parsed = LogStreamEvent.safeParse(event);
  if (!parsed.success) {
    // Where the event is wrong, never what it holds (a log may carry a person's data).
    log.warn("malformed log stream event dropped", {
      correlationId,
      reason: parsed.error.issues[0]?.path.join(".") || "not an object",
    });
    return "dropped";
  }
  const { type, user_id: userId, date } = parsed.data.detail.data;
  if (type !== "sdu") return "ignored";
  if (!userId || userId.length > 256 || !isWellFormed(userId)) {
    log.warn("log stream sdu event without a valid user_id dropped", {
      correlationId,
      eventId: parsed.data.id,
    });
    return "dropped";
  }
  const outcome = await eraseDeletedAuth0User(userId, date);
  if (!outcome.erased) {
    log.info("log stream sdu event: nothing to erase", { correlationId, why: outcome.why });
    return outcome.why;
  }
  audit("account deleted", {
    actor: "auth0:log-stream",
    target: userId,
    auth0User: "absent",
    resumed: outcome.resumed,
    correlationId,
    requestId: parsed.data.id,
  });
  return "erased";
}
/** No HTTP route reaches it: only its EventBridge rule (checked by tests/integration/routes.test.ts). */
handler.routes = Object.freeze([]) as readonly string[];
