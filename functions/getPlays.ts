import { COUNTERS_TABLE, getUserCounters, userCounterKey } from "../lib/db/counters.ts";
import { httpHandler } from "../lib/http/handler.ts";
import { jsonResponse } from "../lib/http/responses.ts";
import { warmContainer } from "../lib/warm-up.ts";

await warmContainer(COUNTERS_TABLE, userCounterKey);

export const handler = httpHandler({
  // The running total kept in the user's counter item: one read, whatever the playlists.
  "GET /playlists/getPlays": async ({ caller }) => {
    const counters = await getUserCounters(caller.sub, true);
    return jsonResponse(200, { plays: counters.totalPlays });
  },
});
