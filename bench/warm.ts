import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type EventChanges, httpEvent, loadEvent } from "../scripts/local/events.ts";
import { ROOT } from "../scripts/local/serverless-config.ts";
import type { Work } from "./bare/replay.ts";
import { type Handler, median, p99, progress, round, timeOnce } from "./common.ts";
import { plainRequests } from "./plain-values.ts";
import { type BenchStack, context, freshInstance, noKey } from "./stack.ts";

/**
 * Warm latency per route, in this process against DynamoDB Local, each route beside a bare
 * replayer that verifies the same token and sends exactly the DynamoDB requests the route sent
 * (recorded by the proxy from one real invocation). Also each route's round trips and the
 * read and write capacity it consumed.
 */
interface Route {
  route: string;
  fn: string;
  fixture: string;
  changes: EventChanges;
}

/** The function a route key is deployed on: scripts/serverless/routes.json, from the declarations. */
function servingFunction(routeKey: string): string {
  const { events } = JSON.parse(
    readFileSync(join(ROOT, "scripts", "serverless", "routes.json"), "utf8"),
  ) as { events: Record<string, { httpApi: { method: string; path: string } | "*" }[]> };
  const fn = Object.entries(events).find(([, list]) =>
    list.some(({ httpApi }) => httpApi !== "*" && `${httpApi.method} ${httpApi.path}` === routeKey),
  )?.[0];
  if (!fn) throw new Error(`no function serves ${routeKey}`);
  return fn;
}

export function warmRoutes(stack: BenchStack): Route[] {
  const { token, hookToken, songId, playlistId, sub } = stack.user;
  const userPath = `/users/${encodeURIComponent(sub)}`;
  const calls: { fixture: string; changes: EventChanges }[] = [
    {
      fixture: "getDisplayName",
      changes: { token },
    },
    {
      fixture: "setDisplayName",
      changes: { token, body: { displayName: "Bench" } },
    },
    {
      fixture: "getFavouriteGenre",
      changes: { token },
    },
    {
      fixture: "setFavouriteGenre",
      changes: { token, body: { genre: "jazz" } },
    },
    {
      fixture: "listSongs",
      changes: { token, query: { limit: "10" } },
    },
    {
      fixture: "createSong",
      changes: { token, body: { songName: "Bench", genre: "g" }, headers: noKey },
    },
    {
      fixture: "getSong",
      changes: { token, pathParameters: { songId } },
    },
    {
      fixture: "listPlaylists",
      changes: { token, query: { limit: "10" } },
    },
    {
      fixture: "getPlaylist",
      changes: { token, pathParameters: { playlistId } },
    },
    {
      fixture: "updatePlaylist",
      changes: { token, pathParameters: { playlistId }, body: { name: "Bench" } },
    },
    {
      fixture: "playPlaylist",
      changes: { token, pathParameters: { playlistId }, headers: noKey },
    },
    {
      fixture: "listFeaturedPlaylists",
      changes: { token, query: { limit: "10" } },
    },
    {
      fixture: "getTotalPlays",
      changes: { token },
    },
    {
      fixture: "getUser",
      changes: { token, rawPath: userPath },
    },
    {
      fixture: "updateUser",
      changes: { token, rawPath: userPath, body: { user_metadata: { theme: "dark" } } },
    },
    // A pull from the beginning of the bench user (a song, a playlist, the profile), and a push
    // renaming the song: timed again and again, it is the same push sent twice (idempotent), so
    // its writes are counted from bench/sync.ts's push (bench/cost-curve.ts).
    {
      fixture: "pullChanges",
      changes: { token, query: { limit: "100" } },
    },
    {
      fixture: "pushChanges",
      changes: {
        token,
        body: {
          changes: [
            {
              collection: "songs",
              id: songId,
              assumed: null,
              data: { songName: "Bench", genre: "g" },
            },
          ],
        },
      },
    },
    {
      fixture: "runPostLogin",
      changes: { token: hookToken, body: { user: { user_id: sub } } },
    },
  ];
  return calls.map((call) => {
    // The route and its function follow from the declaration that made the event.
    const route = loadEvent(call.fixture).routeKey;
    return { ...call, route, fn: servingFunction(route) };
  });
}

/** `warmUpRuns` untimed invocations of each (function and bare twin) before the `runs` timed ones. */
export async function measureWarm(
  stack: BenchStack,
  bareReplay: string,
  runs: number,
  warmUpRuns = 100,
) {
  const routes = warmRoutes(stack);
  const counter = progress("warm routes", routes.length);
  const warm = [];
  for (const route of routes) {
    const handler = stack.handlers[route.fn] as Handler;
    const event = httpEvent(route.fixture, route.changes);
    const ours = async () => {
      const response = (await handler(event, context)) as { statusCode: number; body: string };
      if (response.statusCode >= 300)
        throw new Error(`${route.route} answered ${response.statusCode}: ${response.body}`);
    };
    // A real invocation through the proxy: its round trips, capacity and exact requests. The
    // second one, in the steady state the timed loop measures (a first login grants a role,
    // later ones only read).
    await (stack.counted[route.fn] as Handler)(event, context);
    stack.proxy.reset();
    await (stack.counted[route.fn] as Handler)(event, context);
    const roundTrips = stack.proxy.operations();
    const { read, write } = stack.proxy.capacityUnits();
    const work: Work = plainRequests(stack.proxy.requests());
    // A bare instance per route, like each function's own: the JIT warms both by the same calls.
    const bare = await freshInstance(bareReplay, route.route);
    const bareEvent = { headers: { authorization: `Bearer ${route.changes.token}` }, work };
    const floor = () => bare(bareEvent, context);
    for (let i = 0; i < warmUpRuns; i++) {
      await ours();
      await floor();
    }
    const oursMs: number[] = [];
    const bareMs: number[] = [];
    // Alternate which goes first, so neither always runs right after the other.
    for (let i = 0; i < runs; i++) {
      if (i % 2 === 0) {
        oursMs.push(await timeOnce(ours));
        bareMs.push(await timeOnce(floor));
      } else {
        bareMs.push(await timeOnce(floor));
        oursMs.push(await timeOnce(ours));
      }
    }
    warm.push({
      route: route.route,
      medianMs: round(median(oursMs)),
      p99Ms: round(p99(oursMs)),
      bareMedianMs: round(median(bareMs)),
      bareP99Ms: round(p99(bareMs)),
      ratio: round(median(oursMs) / median(bareMs)),
      dynamoCalls: roundTrips.length,
      operations: roundTrips.join(" + "),
      readCU: round(read, 1),
      writeCU: round(write, 1),
    });
    counter.step(route.route);
  }
  return warm;
}
