import { getProfile, PROFILES_TABLE, profileKey } from "../lib/db/profiles.ts";
import { DEFAULT_DISPLAY_NAME, displayNameOf, setDisplayName } from "../lib/domain/profile.ts";
import { httpHandler } from "../lib/http/handler.ts";
import { jsonResponse } from "../lib/http/responses.ts";
import { DisplayNameBody, parse } from "../lib/schemas/index.ts";
import { warmContainer } from "../lib/warm-up.ts";

await warmContainer(PROFILES_TABLE, profileKey);

export const handler = httpHandler({
  "GET /displayName": async ({ caller }) => {
    const profile = await getProfile(caller.sub);
    return jsonResponse(200, {
      displayName: profile ? displayNameOf(profile) : DEFAULT_DISPLAY_NAME,
    });
  },
  "PUT /displayName": async ({ caller, body }) => {
    const { displayName } = parse(DisplayNameBody, body);
    return jsonResponse(200, { displayName: await setDisplayName(caller.sub, displayName) });
  },
});
