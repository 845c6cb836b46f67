import { displayNameFor, PROFILE_WARM_UP, setDisplayName } from "../lib/domain/profile.ts";
import { httpHandler } from "../lib/http/handler.ts";
import { jsonResponse } from "../lib/http/responses.ts";
import { DisplayNameBody, parse } from "../lib/schemas/index.ts";
import { warmContainer } from "../lib/warm-up.ts";

await warmContainer(PROFILE_WARM_UP);

export const handler = httpHandler({
  "GET /displayName": async ({ caller }) =>
    jsonResponse(200, { displayName: await displayNameFor(caller.sub) }),
  "PUT /displayName": async ({ caller, body }) => {
    const { displayName } = parse(DisplayNameBody, body);
    return jsonResponse(200, { displayName: await setDisplayName(caller.sub, displayName) });
  },
});
