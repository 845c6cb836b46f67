import type { Context } from "aws-lambda";
import type * as z from "zod/mini";
import { PERMISSIONS, requireMachinePermission } from "../lib/auth/access.ts";
import { config } from "../lib/config.ts";
import { type PostLoginResult, runPostLogin } from "../lib/domain/postLogin.ts";
import { PROFILE_WARM_UP } from "../lib/domain/profile.ts";
import { toHttpError } from "../lib/http/error-mapping.ts";
import { httpHandler } from "../lib/http/handler.ts";
import { errorBody } from "../lib/http/responses.ts";
import { defineRoute } from "../lib/http/route.ts";
import type { HttpEvent, HttpResponse } from "../lib/http/types.ts";
import { parseJson } from "../lib/json.ts";
import { warmContainer } from "../lib/lambda/warm-up.ts";
import { log } from "../lib/log.ts";
import { metric } from "../lib/metrics.ts";
import { PostLoginEvent } from "../lib/schemas/hook.ts";
import { parse } from "../lib/schemas/index.ts";

const { playlistEditorMinPlays, claimsNamespace } = config();

const EVENT = "The post-login event";

async function postLogin(
  { user }: z.output<typeof PostLoginEvent>,
  audited: {
    actor: string;
    correlationId: string;
    clientCorrelationId?: string | undefined;
    requestId?: string;
  },
): Promise<PostLoginResult> {
  // Auth0's metadata of the user: read only for a user the store has never seen (moving in).
  return runPostLogin(user.user_id, playlistEditorMinPlays, claimsNamespace, audited, {
    userMetadata: user.user_metadata,
    appMetadata: user.app_metadata,
  });
}

export const routes = [
  defineRoute({
    key: "POST /hooks/post-login",
    id: "runPostLogin",
    tag: "hooks",
    summary: "Run the login rules (client-credentials token with run:post_login)",
    description:
      "Runs the login rules for the Auth0 Action: default display name, the playlist_editor role from plays, the roles claim. For a user the store has never seen, first moves in the event's user.user_metadata and, of user.app_metadata, plan and denied_roles (each key under the metadata rules; one that breaks a rule stays out and is named in migration.skipped), once. Client-credentials tokens with run:post_login only.",
    caller: "person-or-machine",
    body: PostLoginEvent,
    bodyName: EVENT,
    responses: { 200: { schema: "PostLoginResult" } },
    errors: ["insufficient_scope", "account_being_deleted"],
    notes: {
      account_being_deleted:
        "the user's account deletion is under way; the Action denies the login",
    },
    // Its body, Auth0's post-login event, is the sample of scripts/local/sample-events.ts.
    example: { headers: { "user-agent": "Auth0 Action" } },
    // The permission first: a caller without it learns nothing of what a valid event is.
    handler: async ({ event, caller, body, correlationId, clientCorrelationId, respond }) => {
      requireMachinePermission(caller, PERMISSIONS.runPostLogin);
      const requestId = event.requestContext?.requestId;
      const audited = { actor: caller.sub, correlationId, clientCorrelationId, requestId };
      return respond(200, await postLogin(body, audited));
    },
  }),
];

// The Action's one client calls for every login: the user's own budget is spent instead.
const overHttp = httpHandler(routes, { rateLimited: false });

function isHttpEvent(event: unknown): event is HttpEvent {
  return (
    typeof event === "object" && event !== null && "routeKey" in event && "requestContext" in event
  );
}

await warmContainer(PROFILE_WARM_UP);

/**
 * Reachable two ways: through the HTTP API (a client-credentials token with run:post_login), or
 * invoked directly with Auth0's post-login event, where IAM decides who may invoke. Same event,
 * same answer: a direct event goes through the same JSON checks as an HTTP body, and an error
 * is answered as the same error object, never thrown.
 */
export function handler(event: HttpEvent, context: Context): Promise<HttpResponse>;
export function handler(event: unknown, context: Context): Promise<PostLoginResult | object>;
export async function handler(
  event: unknown,
  context: Context,
): Promise<HttpResponse | PostLoginResult | object> {
  if (isHttpEvent(event)) {
    const response = await overHttp(event, context);
    if ((response.statusCode ?? 200) >= 500) metric("HookFailures");
    return response;
  }
  const started = performance.now();
  const correlationId = context?.awsRequestId ?? "direct";
  let status = 200;
  try {
    const body = parseJson(JSON.stringify(event ?? null));
    return await postLogin(parse(PostLoginEvent, body, EVENT), {
      actor: "lambda:invoke",
      correlationId,
    });
  } catch (error) {
    const mapped = toHttpError(error);
    if (!mapped) {
      log.error("unhandled error", { errorName: (error as Error)?.name, correlationId });
    }
    const answer = errorBody(mapped);
    status = answer.statusCode;
    return answer;
  } finally {
    // The Action lets a login through without roles when the hook fails: an alarm watches this.
    if (status >= 500) metric("HookFailures");
    log.info("invocation", {
      route: "postLogin (direct)",
      status,
      latencyMs: Math.round(performance.now() - started),
      correlationId,
    });
  }
}
handler.routes = overHttp.routes;
