/**
 * What one request costs in DynamoDB (ReturnConsumedCapacity: TOTAL, as DynamoDB Local reports
 * it) at the largest allowed sizes, under contention, and what the per-caller limit adds (its
 * round trips and capacity, apart from the route's own). Runs after bench/capacity.ts, whose
 * 2 × 32 kB profile of `google-oauth2|bench-large` it reuses.
 */
import { BatchWriteCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { DEFAULTS } from "../lib/config.ts";
import { newId } from "../lib/ids.ts";
import { type EventChanges, httpEvent } from "../scripts/local/events.ts";
import type { Bundles } from "./bundles.ts";
import { type Handler, round } from "./common.ts";
import { type BenchStack, context, freshInstance, runtimeEnv } from "./stack.ts";

interface Answer {
  statusCode: number;
  body: string;
}

const LARGE_SUB = "google-oauth2|bench-large";

/**
 * What one caller repeating a request can make the tables spend each second, sustained, at the
 * contract's default budgets: as many requests as the request count and both unit budgets
 * allow (bursts of twice that come once, then this).
 */
function atDefaultBudgets(route: string, units: { read: number; write: number }) {
  const reads = route.startsWith("GET ");
  const countRate = reads ? DEFAULTS.userReadsPerSecond : DEFAULTS.userWritesPerSecond;
  const perSecond = Math.min(
    countRate,
    units.read > 0 ? DEFAULTS.userReadUnitsPerSecond / units.read : Number.POSITIVE_INFINITY,
    units.write > 0 ? DEFAULTS.userWriteUnitsPerSecond / units.write : Number.POSITIVE_INFINITY,
  );
  return {
    requestsPerSecond: round(perSecond),
    readCUPerSecond: round(perSecond * units.read),
    writeCUPerSecond: round(perSecond * units.write),
  };
}

/** The stack, and how the measurements call a function and count its round trips. */
function costBench(stack: BenchStack) {
  const limiterTable = stack.tables.RATE_LIMITS_TABLE as string;
  return {
    stack,
    limiterTable,
    call: (fn: string, fixture: string, changes: EventChanges) =>
      (stack.counted[fn] as Handler)(httpEvent(fixture, changes), context) as Promise<Answer>,
    /** Round trips since the proxy's reset, to the limiter's table or to the others. */
    tripsOf: (toLimiter: boolean) =>
      stack.proxy.requests().filter((r) => (r.input.TableName === limiterTable) === toLimiter)
        .length,
  };
}

type CostBench = ReturnType<typeof costBench>;

/** The largest items of LARGE_SUB; answers its song ids. */
async function seedLargeItems({ stack }: CostBench, now: string): Promise<string[]> {
  // 500 songs of the largest names, so that a playlist of 500 real ids can be made.
  const songIds = Array.from({ length: 500 }, () => newId());
  for (let i = 0; i < songIds.length; i += 50) {
    await Promise.all(
      songIds.slice(i, i + 50).map((song_id) =>
        stack.doc.send(
          new PutCommand({
            TableName: stack.tables.SONGS_TABLE,
            Item: {
              user_id: LARGE_SUB,
              song_id,
              song_name: "S".repeat(200),
              genre: "G".repeat(64),
              created_at: now,
            },
          }),
        ),
      ),
    );
  }

  // Over 4 MB of playlists of 500 ids of 64 characters (as stored before ids had to name songs):
  // an export page uncut by cost read 1,312 units.
  const large = Array.from({ length: 130 }, () => ({
    user_id: LARGE_SUB,
    playlist_id: newId(),
    name: "€".repeat(100),
    song_ids: Array.from({ length: 500 }, () => newId().padEnd(64, "x")),
    created_at: now,
    updated_at: now,
  }));
  for (let i = 0; i < large.length; i += 25) {
    await stack.doc.send(
      new BatchWriteCommand({
        RequestItems: {
          [stack.tables.PLAYLISTS_TABLE as string]: large
            .slice(i, i + 25)
            .map((Item) => ({ PutRequest: { Item } })),
        },
      }),
    );
  }
  return songIds;
}

/** Each route at the largest allowed sizes: its round trips and capacity, the limiter's apart. */
async function measurePerRoute(
  { stack, limiterTable, call, tripsOf }: CostBench,
  token: string,
  songIds: string[],
) {
  const usersPath = `/users/${encodeURIComponent(LARGE_SUB)}`;
  let playlistId = "";
  const routes: [string, string, string, () => EventChanges][] = [
    ["GET /users/{userId} (2 × 32 kB)", "users", "getUser", () => ({ token, rawPath: usersPath })],
    [
      "PATCH /users/{userId} (2 × 32 kB)",
      "users",
      "updateUser",
      () => ({ token, rawPath: usersPath, body: { user_metadata: { theme: "dark" } } }),
    ],
    [
      "PUT /displayName (2 × 32 kB)",
      "displayName",
      "setDisplayName",
      // As long as the stored name: the profile is at its limit.
      () => ({ token, body: { displayName: "Lbrge" } }),
    ],
    [
      "POST /songs (keyed, longest names)",
      "songs",
      "createSong",
      () => ({
        token,
        body: { songName: "N".repeat(200), genre: "G".repeat(64) },
        headers: { "idempotency-key": `bench-song-${newId()}` },
      }),
    ],
    [
      "POST /playlists (keyed, 500 songs)",
      "playlists",
      "createPlaylist",
      () => ({
        token,
        body: { name: "P".repeat(100), songIds },
        headers: { "idempotency-key": `bench-playlist-${newId()}` },
      }),
    ],
    [
      "POST /playlists/{id}/plays (keyed, 500 songs)",
      "playlists",
      "playPlaylist",
      () => ({
        token,
        pathParameters: { playlistId },
        headers: { "idempotency-key": `bench-play-${newId()}` },
      }),
    ],
    [
      "GET /playlists/{id} (500 songs)",
      "playlists",
      "getPlaylist",
      () => ({ token, pathParameters: { playlistId } }),
    ],
    [
      "GET /playlists?limit=100",
      "playlists",
      "listPlaylists",
      () => ({ token, query: { limit: "100" } }),
    ],
    [
      "GET /users/{userId}/export (130 playlists of 33 kB)",
      "users",
      "exportUser",
      () => ({ token, rawPath: `${usersPath}/export` }),
    ],
    [
      "DELETE /playlists/{id} (500 songs)",
      "playlists",
      "deletePlaylist",
      () => ({ token, pathParameters: { playlistId } }),
    ],
  ];
  const perRoute = [];
  for (const [route, fn, fixture, changes] of routes) {
    stack.proxy.reset();
    const answer = await call(fn, fixture, changes());
    if (answer.statusCode >= 300) throw new Error(`${route} answered ${answer.statusCode}`);
    if (fixture === "createPlaylist") playlistId = JSON.parse(answer.body).playlistId;
    const units = stack.proxy.capacityUnitsOf(limiterTable);
    perRoute.push({
      route,
      roundTrips: tripsOf(false),
      readCU: round(units.others.read),
      writeCU: round(units.others.write),
      limiterTrips: tripsOf(true),
      limiterWriteCU: round(units.table.write),
      ...atDefaultBudgets(route, units.others),
    });
  }
  return perRoute;
}

async function measureContention({ stack, limiterTable, call }: CostBench, now: string) {
  // Contention: 80 concurrent PATCHes of one profile of 2 × 30 kB (room for their keys), each
  // its own key.
  const contendedSub = "google-oauth2|bench-contended";
  await stack.doc.send(
    new PutCommand({
      TableName: stack.tables.PROFILES_TABLE,
      Item: {
        user_id: contendedSub,
        user_metadata: { big: "b".repeat(30_000) },
        app_metadata: { big: "a".repeat(30_000) },
        version: 1,
        created_at: now,
        updated_at: now,
      },
    }),
  );
  const contendedToken = await stack.tokenFor(contendedSub);
  const contendedPath = `/users/${encodeURIComponent(contendedSub)}`;
  stack.proxy.reset();
  const PATCHES = 80;
  const answers = await Promise.all(
    Array.from({ length: PATCHES }, (_, i) =>
      call("users", "updateUser", {
        token: contendedToken,
        rawPath: contendedPath,
        body: { user_metadata: { [`c${i}`]: i } },
      }),
    ),
  );
  const sent = stack.proxy.requests().filter((r) => r.input.TableName !== limiterTable);
  const contended = stack.proxy.capacityUnitsOf(limiterTable).others;
  const contention = {
    requests: PATCHES,
    succeeded: answers.filter((a) => a.statusCode === 200).length,
    refused409: answers.filter((a) => a.statusCode === 409).length,
    refused503: answers.filter((a) => a.statusCode === 503).length,
    other: answers.filter((a) => ![200, 409, 503].includes(a.statusCode)).length,
    getItemPerRequest: round(sent.filter((r) => r.operation === "GetItem").length / PATCHES),
    updateItemPerRequest: round(sent.filter((r) => r.operation === "UpdateItem").length / PATCHES),
    readCUPerRequest: round(contended.read / PATCHES),
    writeCUPerRequest: round(contended.write / PATCHES),
  };
  return contention;
}

async function measureLimiter({ stack, limiterTable, tripsOf }: CostBench, bundles: Bundles) {
  // The limiter alone, in a function instance held to the contract's defaults (5 writes and 20
  // reads a second): a write, reads in a burst, writes refused past the burst.
  Object.assign(process.env, runtimeEnv(bundles.cursorSecret), {
    AUTH_ISSUER: stack.issuer,
    DYNAMODB_ENDPOINT: stack.proxy.endpoint,
    USER_WRITES_PER_SECOND: "5",
    USER_READS_PER_SECOND: "20",
  });
  const limited = await freshInstance(bundles.functions.getFavGenre as string, "limited");
  Object.assign(process.env, runtimeEnv(bundles.cursorSecret), {
    AUTH_ISSUER: stack.issuer,
    DYNAMODB_ENDPOINT: stack.dynamoEndpoint,
  });
  const caller = await stack.tokenFor("google-oauth2|bench-limited");
  const limitedCall = async (fixture: string, changes: EventChanges) =>
    ((await limited(httpEvent(fixture, { token: caller, ...changes }), context)) as Answer)
      .statusCode;
  const limiterCost = async (label: string, count: number, send: () => Promise<number>) => {
    stack.proxy.reset();
    const statuses: number[] = [];
    for (let i = 0; i < count; i++) statuses.push(await send());
    const units = stack.proxy.capacityUnitsOf(limiterTable).table;
    return {
      request: `${label} (${statuses.filter((s) => s === 429).length} of ${count} refused)`,
      roundTrips: round(tripsOf(true) / count),
      writeCU: round(units.write / count),
      readCU: round(units.read / count),
    };
  };
  const limiter = [
    await limiterCost("a write, within the burst", 10, () =>
      limitedCall("setFavouriteGenre", { body: { genre: "jazz" } }),
    ),
    await limiterCost("a write past the burst", 20, () =>
      limitedCall("setFavouriteGenre", { body: { genre: "jazz" } }),
    ),
    await limiterCost("a read, a burst of 40 in one container", 40, () =>
      limitedCall("getFavouriteGenre", {}),
    ),
  ];
  return limiter;
}

export async function measureCost(stack: BenchStack, bundles: Bundles) {
  const bench = costBench(stack);
  const token = await stack.tokenFor(LARGE_SUB);
  const now = new Date().toISOString();
  const songIds = await seedLargeItems(bench, now);
  const perRoute = await measurePerRoute(bench, token, songIds);
  const contention = await measureContention(bench, now);
  const limiter = await measureLimiter(bench, bundles);
  return { perRoute, contention, limiter };
}
