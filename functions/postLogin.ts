import type { Context } from "aws-lambda";
import { config } from "../lib/config.ts";
import { requireScope, SCOPES } from "../lib/domain/access.ts";
import { type PostLoginResult, runPostLogin } from "../lib/domain/postLogin.ts";
import { httpHandler } from "../lib/http/handler.ts";
import { type HttpEvent, type HttpResponse, jsonResponse } from "../lib/http/middleware.ts";
import { log } from "../lib/log.ts";
import { PostLoginEvent, parse } from "../lib/schemas/index.ts";

const { playlistEditorMinPlays, claimsNamespace } = config();

function postLogin(auth0Event: unknown): Promise<PostLoginResult> {
  const { user } = parse(PostLoginEvent, auth0Event, "The post-login event");
  return runPostLogin(user.user_id, playlistEditorMinPlays, claimsNamespace);
}

const overHttp = httpHandler({
  "POST /hooks/post-login": async ({ caller, body }) => {
    requireScope(caller, SCOPES.runPostLogin);
    return jsonResponse(200, await postLogin(body));
  },
});

function isHttpEvent(event: unknown): event is HttpEvent {
  return (
    typeof event === "object" && event !== null && "routeKey" in event && "requestContext" in event
  );
}

/**
 * Reachable two ways: through the HTTP API (token with run:post_login), or invoked directly
 * with Auth0's post-login event, where IAM decides who may invoke. Same event, same answer.
 */
export function handler(event: HttpEvent, context: Context): Promise<HttpResponse>;
export function handler(event: unknown, context: Context): Promise<PostLoginResult>;
export async function handler(
  event: unknown,
  context: Context,
): Promise<HttpResponse | PostLoginResult> {
  if (isHttpEvent(event)) return overHttp(event, context);
  const started = performance.now();
  try {
    return await postLogin(event);
  } finally {
    log.info("invocation", {
      route: "postLogin (direct)",
      latencyMs: Math.round(performance.now() - started),
    });
  }
}
