import { displayNameFor, PROFILE_WARM_UP, setDisplayName } from "../lib/domain/profile.ts";
import { httpHandler } from "../lib/http/handler.ts";
import { defineRoute } from "../lib/http/route.ts";
import { warmContainer } from "../lib/lambda/warm-up.ts";
import { DisplayNameBody } from "../lib/schemas/profile.ts";

export const routes = [
  defineRoute({
    key: "GET /displayName",
    id: "getDisplayName",
    tag: "profile",
    summary: 'The caller\'s display name ("user" when never set)',
    description: 'The caller\'s display name; "user" when they never chose one.',
    caller: "person",
    responses: { 200: { schema: "DisplayNameResult" } },
    handler: async ({ caller, respond }) =>
      respond(200, { displayName: await displayNameFor(caller.sub) }),
  }),
  defineRoute({
    key: "PUT /displayName",
    id: "setDisplayName",
    tag: "profile",
    summary: "Set the caller's display name",
    description:
      "Sets user_metadata.displayName: 1 to 64 characters after trimming, no control characters.",
    caller: "person",
    body: DisplayNameBody,
    responses: { 200: { schema: "DisplayNameResult" } },
    // The same write as PATCH /users/{userId}'s user_metadata (lib/domain/profile.ts).
    errors: ["metadata_too_large", "account_being_deleted", "write_conflict"],
    example: { body: { displayName: "J-vald3z" } },
    handler: async ({ caller, body, respond }) =>
      respond(200, { displayName: await setDisplayName(caller.sub, body.displayName) }),
  }),
];

await warmContainer(PROFILE_WARM_UP);

export const handler = httpHandler(routes);
