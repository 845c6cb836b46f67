import { COUNTERS_WARM_UP, totalPlaysOf } from "../lib/domain/plays.ts";
import { httpHandler } from "../lib/http/handler.ts";
import { defineRoute } from "../lib/http/route.ts";
import { warmContainer } from "../lib/lambda/warm-up.ts";

export const routes = [
  defineRoute({
    key: "GET /playlists/getPlays",
    id: "getTotalPlays",
    tag: "playlists",
    summary: "Total plays of the caller's playlists",
    description: "Total plays of the caller's playlists.",
    caller: "person",
    responses: { 200: { schema: "PlaysResult" } },
    handler: async ({ caller, respond }) => respond(200, { plays: await totalPlaysOf(caller.sub) }),
  }),
];

await warmContainer(COUNTERS_WARM_UP);

export const handler = httpHandler(routes);
