/**
 * Sync's costs (CONTRACT: Sync): a pull after one change, for a user holding 10 and 10,000
 * songs (its read units, as DynamoDB Local reports them, and ms: a pull costs in proportion to
 * the changes, so both should be alike), a push of 100 changes, and a push that merges (an older
 * `assumed`: the server changed the playlist meanwhile).
 */
import { BatchWriteCommand } from "@aws-sdk/lib-dynamodb";
import { newId } from "../lib/ids.ts";
import { type EventChanges, httpEvent } from "../scripts/local/events.ts";
import { type Handler, median, round, timeOnce } from "./common.ts";
import { type BenchStack, context, noKey } from "./stack.ts";

interface Answer {
  statusCode: number;
  body: string;
}

const RUNS = 30;

/** `many`: the larger library a pull is measured with (10,000 songs by default). */
export async function measureSync(stack: BenchStack, many = 10_000) {
  // lib/db/changes.ts creates the DynamoDB client of lib/db/client.ts, which reads the
  // functions' configuration when imported: only once the bench stack has set it.
  const { newVersion } = await import("../lib/db/changes.ts");
  const timed = (fixture: string, changes: EventChanges) =>
    (stack.handlers.sync as Handler)(httpEvent(fixture, changes), context) as Promise<Answer>;
  const counted = async (fixture: string, changes: EventChanges) => {
    stack.proxy.reset();
    const answer = (await (stack.counted.sync as Handler)(
      httpEvent(fixture, changes),
      context,
    )) as Answer;
    if (answer.statusCode !== 200) throw new Error(`${fixture} answered ${answer.statusCode}`);
    return { units: stack.proxy.capacityUnits(), requests: stack.proxy.operations().length };
  };
  const rows: Record<string, unknown>[] = [];

  for (const count of [10, many]) {
    const owner = `auth0|bench-sync-${count}`;
    const token = await stack.tokenFor(owner);
    // Songs written an hour ago, as a library is: older than the checkpoint's settling window.
    const hourAgo = Date.now() - 3_600_000;
    const items = Array.from({ length: count }, (_, i) => ({
      user_id: owner,
      song_id: newId(hourAgo + i),
      song_name: "s",
      genre: "g",
      created_at: new Date(hourAgo).toISOString(),
      sync_version: newVersion(hourAgo + i),
    }));
    for (let i = 0; i < items.length; i += 25) {
      const batch = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
      await stack.doc.send(
        new BatchWriteCommand({ RequestItems: { [stack.tables.SONGS_TABLE as string]: batch } }),
      );
    }
    // The device is up to date: it pulled everything, then one change is made.
    let checkpoint: string | undefined;
    for (;;) {
      const answer = await timed("pullChanges", {
        token,
        query: { limit: "500", ...(checkpoint ? { checkpoint } : {}) },
      });
      const body = JSON.parse(answer.body);
      checkpoint = body.checkpoint;
      if (body.documents.length === 0) break;
    }
    await stack.through("songs", "createSong", {
      token,
      body: { songName: "new", genre: "g" },
      headers: noKey,
    });
    const pull = { token, query: { limit: "100", checkpoint: checkpoint as string } };
    const cost = await counted("pullChanges", pull);
    for (let i = 0; i < 5; i++) await timed("pullChanges", pull);
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) times.push(await timeOnce(() => timed("pullChanges", pull)));
    rows.push({
      what: `pull after 1 change, ${count} songs held`,
      readUnits: round(cost.units.read),
      writeUnits: round(cost.units.write),
      requests: cost.requests,
      medianMs: round(median(times)),
    });
  }

  // A push of 100 creates, then a merge: the playlist changed on the server since it was pulled.
  const owner = "auth0|bench-sync-push";
  const token = await stack.tokenFor(owner);
  const changes = Array.from({ length: 100 }, (_, i) => ({
    collection: "songs",
    id: newId(),
    assumed: null,
    data: { songName: `song ${i}`, genre: "g" },
  }));
  const started = performance.now();
  const pushed = await counted("pushChanges", { token, body: { changes } });
  rows.push({
    what: "push of 100 changes (creates)",
    readUnits: round(pushed.units.read),
    writeUnits: round(pushed.units.write),
    requests: pushed.requests,
    medianMs: round(performance.now() - started),
  });
  const songIds = changes.map((c) => c.id);
  const playlistId = newId();
  const created = await timed("pushChanges", {
    token,
    body: {
      changes: [
        {
          collection: "playlists",
          id: playlistId,
          assumed: null,
          data: { name: "p", songIds: songIds.slice(0, 50) },
        },
      ],
    },
  });
  const assumed = JSON.parse(created.body).documents[0];
  await stack.through("playlists", "updatePlaylist", {
    token,
    pathParameters: { playlistId },
    body: { name: "server", addSongIds: songIds.slice(50, 60) },
  });
  const mergeStart = performance.now();
  const merged = await counted("pushChanges", {
    token,
    body: {
      changes: [
        {
          collection: "playlists",
          id: playlistId,
          assumed,
          data: { name: "device", songIds: [...songIds.slice(0, 40), ...songIds.slice(60, 70)] },
        },
      ],
    },
  });
  rows.push({
    what: "push that merges (playlist of 50 + 10 + 10 ids, both renamed)",
    readUnits: round(merged.units.read),
    writeUnits: round(merged.units.write),
    requests: merged.requests,
    medianMs: round(performance.now() - mergeStart),
  });
  return rows;
}
