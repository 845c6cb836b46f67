import { getProfile } from "../lib/db/profiles.ts";
import { httpHandler } from "../lib/http/handler.ts";
import { jsonResponse } from "../lib/http/middleware.ts";

export const handler = httpHandler({
  // The running total kept on the profile: one read, whatever the number of playlists.
  "GET /playlists/getPlays": async ({ caller }) => {
    const profile = await getProfile(caller.sub);
    return jsonResponse(200, { plays: profile?.totalPlays ?? 0 });
  },
});
