import { BatchWriteCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { httpEvent } from "../scripts/local/events.ts";
import { type Handler, median, round, timeOnce } from "./common.ts";
import { type BenchStack, context, usersContext } from "./stack.ts";

/** What must not grow with a user's data: getPlays with many playlists, and account deletion. */

async function putAll(stack: BenchStack, table: string, items: Record<string, unknown>[]) {
  for (let i = 0; i < items.length; i += 25) {
    const batch = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    await stack.doc.send(new BatchWriteCommand({ RequestItems: { [table]: batch } }));
  }
}

const now = new Date().toISOString();
const id = (prefix: string, i: number) =>
  `01JD${prefix}${String(i).padStart(22 - prefix.length, "0")}`;
const playlistItems = (owner: string, count: number) =>
  Array.from({ length: count }, (_, i) => ({
    user_id: owner,
    playlist_id: id("P", i),
    name: "p",
    song_ids: [],
    created_at: now,
    updated_at: now,
  }));

/** Median getPlays latency for a user with 10 and with `many` playlists (10,000 by default). */
export async function measureGetPlaysScaling(
  stack: BenchStack,
  runs: number,
  many = 10_000,
  warmUpRuns = 30,
) {
  const { tables } = stack;
  const scaling: Record<string, number> = {};
  for (const count of [10, many]) {
    const owner = `auth0|bench-${count}`;
    await putAll(stack, tables.PLAYLISTS_TABLE as string, playlistItems(owner, count));
    await stack.doc.send(
      new PutCommand({
        TableName: tables.COUNTERS_TABLE,
        Item: { user_id: owner, counter_id: "user", total_plays: count, playlists: count },
      }),
    );
    const event = httpEvent("getTotalPlays", { token: await stack.tokenFor(owner) });
    const getPlays = stack.handlers.getPlays as Handler;
    for (let i = 0; i < warmUpRuns; i++) await getPlays(event, context);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push(await timeOnce(() => getPlays(event, context)));
    scaling[`${count}`] = round(median(times));
  }
  return scaling;
}

/** The sizes a user is measured at: both quotas by default (10,000 songs, 1,000 playlists). */
interface Quotas {
  songs: number;
  playlists: number;
}
const AT_QUOTA: Quotas = { songs: 10_000, playlists: 1_000 };

/** The counters of a user at `quotas`: its playlists of one play each, its songs. */
async function putQuotaCounters(stack: BenchStack, owner: string, quotas: Quotas): Promise<void> {
  await putAll(stack, stack.tables.COUNTERS_TABLE as string, [
    ...Array.from({ length: quotas.playlists }, (_, i) => ({
      user_id: owner,
      counter_id: id("P", i),
      plays: 1,
    })),
    {
      user_id: owner,
      counter_id: "user",
      songs: quotas.songs,
      playlists: quotas.playlists,
      total_plays: quotas.playlists,
    },
  ]);
}

/** Milliseconds to delete an account at both quotas (10,000 songs and 1,000 playlists). */
export async function measureAccountDeletion(
  stack: BenchStack,
  quotas: Quotas = AT_QUOTA,
): Promise<number> {
  const { tables } = stack;
  const owner = "auth0|bench-at-quota";
  await putAll(
    stack,
    tables.SONGS_TABLE as string,
    Array.from({ length: quotas.songs }, (_, i) => ({
      user_id: owner,
      song_id: id("S", i),
      song_name: "s",
      genre: "g",
      created_at: now,
    })),
  );
  await putAll(stack, tables.PLAYLISTS_TABLE as string, playlistItems(owner, quotas.playlists));
  await putQuotaCounters(stack, owner, quotas);
  const event = httpEvent("deleteUser", {
    token: await stack.tokenFor(owner),
    rawPath: `/users/${encodeURIComponent(owner)}`,
  });
  const started = performance.now();
  const deletion = (await (stack.handlers.users as Handler)(event, usersContext)) as {
    statusCode: number;
  };
  const ms = Math.round(performance.now() - started);
  if (deletion.statusCode !== 204)
    throw new Error(`account deletion answered ${deletion.statusCode}`);
  return ms;
}

/** RS256 verifications per second on one core (jose, keys already imported). */
export async function measureJwtRate(stack: BenchStack): Promise<number> {
  const { createLocalJWKSet, jwtVerify } = await import("jose");
  const keys = createLocalJWKSet({ keys: [stack.key.publicJwk] });
  let verified = 0;
  const until = performance.now() + 2000;
  while (performance.now() < until) {
    await jwtVerify(stack.user.token, keys, { issuer: stack.issuer, audience: stack.audience });
    verified++;
  }
  return Math.round(verified / 2);
}

/**
 * The export of a user at both quotas with the largest items (10,000 songs of 200 two-byte
 * characters, 1,000 playlists of 500 ids), walked page by page through the users function:
 * per page its time, its size and the heap it took (after a collection when `--expose-gc` lets
 * one run, else as the process grew). Bounded: no page's time or memory grows with the pages
 * before it.
 */
export async function measureExport(stack: BenchStack, quotas: Quotas = AT_QUOTA) {
  const { tables } = stack;
  const owner = "auth0|bench-export";
  const songIds = Array.from({ length: quotas.songs }, (_, i) => id("E", i));
  await putAll(
    stack,
    tables.SONGS_TABLE as string,
    songIds.map((song_id, i) => ({
      user_id: owner,
      song_id,
      song_name: `${"é".repeat(190)}${String(i).padStart(10, "0")}`,
      genre: "g".repeat(64),
      created_at: now,
    })),
  );
  await putAll(
    stack,
    tables.PLAYLISTS_TABLE as string,
    playlistItems(owner, quotas.playlists).map((item) => ({
      ...item,
      song_ids: songIds.slice(0, 500),
    })),
  );
  await putQuotaCounters(stack, owner, quotas);
  const token = await stack.tokenFor(owner);
  const users = stack.handlers.users as Handler;
  const gc = (globalThis as { gc?: () => void }).gc;
  const pages: {
    page: number;
    ms: number;
    bytes: number;
    songs: number;
    playlists: number;
    heapMB: number;
  }[] = [];
  let cursor: string | undefined;
  do {
    gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const event = httpEvent("exportUser", {
      token,
      rawPath: `/users/${encodeURIComponent(owner)}/export`,
      pathParameters: { userId: owner },
      ...(cursor ? { query: { cursor } } : {}),
    });
    const started = performance.now();
    const response = (await users(event, usersContext)) as { statusCode: number; body: string };
    const ms = performance.now() - started;
    if (response.statusCode !== 200) throw new Error(`export answered ${response.statusCode}`);
    const heapMB = (process.memoryUsage().heapUsed - heapBefore) / 1_048_576;
    const body = JSON.parse(response.body) as {
      songs: unknown[];
      playlists: unknown[];
      nextCursor: string | null;
    };
    pages.push({
      page: pages.length + 1,
      ms: Math.round(ms),
      bytes: Buffer.byteLength(response.body, "utf8"),
      songs: body.songs.length,
      playlists: body.playlists.length,
      heapMB: round(Math.max(0, heapMB), 1),
    });
    cursor = body.nextCursor ?? undefined;
    // About 21 MB of JSON at most 4 MB a page: a walk past 50 pages is a bug, not a measurement.
    if (pages.length > 50) throw new Error("the export did not end within 50 pages");
  } while (cursor);
  return pages;
}
