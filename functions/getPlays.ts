import { openConnection, WARM_UP_SUBJECT } from "../lib/db/client.ts";
import { COUNTERS_TABLE, getUserCounters, userCounterKey } from "../lib/db/counters.ts";
import { httpHandler } from "../lib/http/handler.ts";
import { jsonResponse } from "../lib/http/responses.ts";
import { warmContainer } from "../lib/warm-up.ts";

await warmContainer((signal) =>
  openConnection(COUNTERS_TABLE, userCounterKey(WARM_UP_SUBJECT), signal),
);

export const handler = httpHandler({
  // The running total kept in the user's counter item: one read, whatever the playlists.
  "GET /playlists/getPlays": async ({ caller }) => {
    const counters = await getUserCounters(caller.sub, true);
    return jsonResponse(200, { plays: counters.totalPlays });
  },
});
