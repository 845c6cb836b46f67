import { BatchWriteCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { httpEvent } from "../scripts/local/events.ts";
import { type Handler, median, round, timeOnce } from "./common.ts";
import { type BenchStack, context } from "./stack.ts";

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

/** Median getPlays latency for a user with 10 and with 10,000 playlists. */
export async function measureGetPlaysScaling(stack: BenchStack, runs: number) {
  const { tables } = stack;
  const scaling: Record<string, number> = {};
  for (const count of [10, 10_000]) {
    const owner = `auth0|bench-${count}`;
    await putAll(stack, tables.PLAYLISTS_TABLE as string, playlistItems(owner, count));
    await stack.doc.send(
      new PutCommand({
        TableName: tables.COUNTERS_TABLE,
        Item: { user_id: owner, counter_id: "user", total_plays: count, playlists: count },
      }),
    );
    const event = httpEvent("getPlays", { token: await stack.tokenFor(owner) });
    const getPlays = stack.handlers.getPlays as Handler;
    for (let i = 0; i < 30; i++) await getPlays(event, context);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push(await timeOnce(() => getPlays(event, context)));
    scaling[`${count}`] = round(median(times));
  }
  return scaling;
}

/** Milliseconds to delete an account at both quotas: 10,000 songs and 1,000 playlists. */
export async function measureAccountDeletion(stack: BenchStack): Promise<number> {
  const { tables } = stack;
  const owner = "auth0|bench-at-quota";
  await putAll(
    stack,
    tables.SONGS_TABLE as string,
    Array.from({ length: 10_000 }, (_, i) => ({
      user_id: owner,
      song_id: id("S", i),
      song_name: "s",
      genre: "g",
      created_at: now,
    })),
  );
  await putAll(stack, tables.PLAYLISTS_TABLE as string, playlistItems(owner, 1_000));
  await putAll(stack, tables.COUNTERS_TABLE as string, [
    ...Array.from({ length: 1_000 }, (_, i) => ({
      user_id: owner,
      counter_id: id("P", i),
      plays: 1,
    })),
    { user_id: owner, counter_id: "user", songs: 10_000, playlists: 1_000, total_plays: 1_000 },
  ]);
  const event = httpEvent("users-delete", {
    token: await stack.tokenFor(owner),
    rawPath: `/users/${encodeURIComponent(owner)}`,
  });
  const started = performance.now();
  const deletion = (await (stack.handlers.users as Handler)(event, context)) as {
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
