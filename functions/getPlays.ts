import { COUNTERS_WARM_UP, totalPlaysOf } from "../lib/domain/plays.ts";
import { httpHandler } from "../lib/http/handler.ts";
import { jsonResponse } from "../lib/http/responses.ts";
import { warmContainer } from "../lib/warm-up.ts";

await warmContainer(COUNTERS_WARM_UP);

export const handler = httpHandler({
  "GET /playlists/getPlays": async ({ caller }) =>
    jsonResponse(200, { plays: await totalPlaysOf(caller.sub) }),
});
