/**
 * `npm run load -- [--duration 60] [--connections 16] [--busy-loops 0]`: a realistic mix
 * against a fresh `npm start` stack (its own ports and DATA_DIR, started as the end-to-end tests
 * start it), optionally beside CPU-bound loops (a build on the same machine), then an audit:
 * every acknowledged write must be stored, play counts exact (a play answered 5xx or not at all
 * may have counted), and the play total equal to the sum of the playlists. Answers are reported
 * by kind: each status, 5xx from the function (the API's error shape) apart from 5xx from the
 * gateway, requests with no answer within 35 s, and any 200 that carries an error or a body with
 * a stack trace (the emulator's old lies; never acceptable).
 */
import { commandLine } from "./local/cli.ts";
import { LOCAL_TENANT, stackToken, startBusyLoops, startStack } from "./local/stack.ts";

const USAGE = `usage: npm run load -- [--duration 60] [--connections 16] [--busy-loops 0]

Starts a fresh npm start stack (its own ports and data directory), drives a mix of reads,
metadata PATCHes, plays and song creations for --duration seconds over --connections
connections, beside --busy-loops CPU-bound processes (a build on the same machine), then
audits every acknowledged write. Exits 1 on any 5xx, unanswered request, error answered 200,
stack trace or lost write.`;

const { values } = commandLine(USAGE, {
  options: {
    duration: { type: "string", default: "60" },
    connections: { type: "string", default: "16" },
    "busy-loops": { type: "string", default: "0" },
  },
});
const durationMs = Number(values.duration) * 1000;
const connections = Number(values.connections);
if (!(durationMs > 0) || !Number.isInteger(connections) || connections < 1) {
  console.error(`--duration and --connections must be positive numbers\n\n${USAGE}`);
  process.exit(2);
}

interface UserState {
  sub: string;
  token: string;
  playlists: string[];
  ackedPlays: Map<string, number>;
  ackedKeys: Set<string>;
  ackedSongs: Set<string>;
  /** Plays answered 5xx or not at all: they may or may not have counted. */
  uncertainPlays: Map<string, number>;
}

const latencies: number[] = [];
const statuses = new Map<number, number>();
const kinds = { functionErrors: 0, gatewayErrors: 0, noAnswer: 0, lies: 0, stackTraces: 0 };
let requests = 0;

/** A stack frame, or the emulator's Lambda error object. */
const INTERNALS = /stackTrace|errorType|errorMessage|\bat .*:\d+:\d+/;

function classify(status: number, text: string): void {
  if (INTERNALS.test(text)) kinds.stackTraces++;
  if (status === 200 && /"errorMessage"|"errorType"/.test(text)) kinds.lies++;
  if (status >= 500) {
    // The API's own error shape names an errorCode; API Gateway's has a message only.
    if (text.includes('"errorCode"')) kinds.functionErrors++;
    else kinds.gatewayErrors++;
  }
}

async function send(
  baseUrl: string,
  user: UserState,
  method: string,
  path: string,
  body?: unknown,
) {
  const started = performance.now();
  requests++;
  let status: number;
  let text: string;
  try {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${user.token}`,
        ...(body ? { "content-type": "application/json" } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
      // API Gateway answers within 30 s; past that (and a margin) nothing will.
      signal: AbortSignal.timeout(35_000),
    });
    status = response.status;
    text = await response.text();
  } catch {
    kinds.noAnswer++;
    return { status: 0, body: undefined };
  }
  latencies.push(performance.now() - started);
  statuses.set(status, (statuses.get(status) ?? 0) + 1);
  classify(status, text);
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies of the API, read field by field.
  return { status, body: parsed as any };
}

async function worker(baseUrl: string, user: UserState, workerId: number, until: number) {
  let seq = 0;
  while (Date.now() < until) {
    seq++;
    const roll = Math.random();
    if (roll < 0.4) {
      const reads = [
        "/displayName",
        "/playlists/getPlays",
        "/songs?limit=10",
        `/users/${encodeURIComponent(user.sub)}`,
      ];
      await send(baseUrl, user, "GET", reads[seq % reads.length] as string);
    } else if (roll < 0.6) {
      const key = `w${workerId}_${seq}`;
      const response = await send(
        baseUrl,
        user,
        "PATCH",
        `/users/${encodeURIComponent(user.sub)}`,
        {
          user_metadata: { [key]: seq },
        },
      );
      if (response.status === 200) user.ackedKeys.add(key);
    } else if (roll < 0.9) {
      const playlistId = user.playlists[seq % user.playlists.length] as string;
      const response = await send(baseUrl, user, "POST", `/playlists/${playlistId}/plays`);
      if (response.status === 200)
        user.ackedPlays.set(playlistId, (user.ackedPlays.get(playlistId) ?? 0) + 1);
      else if (response.status === 0 || response.status >= 500)
        user.uncertainPlays.set(playlistId, (user.uncertainPlays.get(playlistId) ?? 0) + 1);
    } else {
      const response = await send(baseUrl, user, "POST", "/songs", {
        songName: `Song ${workerId}-${seq}`,
        genre: "load",
      });
      if (response.status === 201) user.ackedSongs.add(response.body.songId);
    }
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function audit(baseUrl: string, users: UserState[]) {
  const problems: string[] = [];
  let checkedWrites = 0;
  for (const user of users) {
    // biome-ignore lint/suspicious/noExplicitAny: JSON bodies of the API, read field by field.
    const get = async (path: string): Promise<any> => {
      const response = await fetch(`${baseUrl}${path}`, {
        headers: { authorization: `Bearer ${user.token}` },
      });
      return response.json();
    };
    const profile = await get(`/users/${encodeURIComponent(user.sub)}`);
    for (const key of user.ackedKeys) {
      checkedWrites++;
      if (!(key in profile.user_metadata))
        problems.push(`${user.sub}: acknowledged metadata key ${key} is missing`);
    }
    let sum = 0;
    for (const playlistId of user.playlists) {
      const playlist = await get(`/playlists/${playlistId}`);
      const acked = user.ackedPlays.get(playlistId) ?? 0;
      const uncertain = user.uncertainPlays.get(playlistId) ?? 0;
      checkedWrites += acked;
      if (playlist.plays < acked || playlist.plays > acked + uncertain)
        problems.push(
          `${playlistId}: ${playlist.plays} plays stored, ${acked} acknowledged (${uncertain} unanswered or 5xx)`,
        );
      sum += playlist.plays;
    }
    const total = await get("/playlists/getPlays");
    if (total.plays !== sum)
      problems.push(`${user.sub}: total ${total.plays} but playlists sum to ${sum}`);
    const stored = new Set<string>();
    let cursor: string | null = null;
    do {
      const page = await get(
        `/songs?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      );
      for (const song of page.songs) stored.add(song.songId);
      cursor = page.nextCursor;
    } while (cursor);
    for (const songId of user.ackedSongs) {
      checkedWrites++;
      if (!stored.has(songId)) problems.push(`${user.sub}: acknowledged song ${songId} is missing`);
    }
  }
  return { problems, checkedWrites };
}

const say = (message: string) => console.error(`[load] ${message}`);
say("starting a fresh npm start stack");
let stopBusyLoops: () => void = () => undefined;
// Plays are 30% of the mix: without the cooldown, so that they are counted, not refused (429).
const stack = await startStack({
  ...LOCAL_TENANT,
  LOG_LEVEL: "WARN",
  PLAY_COOLDOWN_SECONDS: "0",
});
process.on("SIGINT", () => {
  void stack.stop().then(() => process.exit(130));
});
try {
  say(`creating ${Math.ceil(connections / 2)} users with 3 playlists each`);
  // Two connections per user, so concurrent PATCHes of one profile are part of the mix.
  const users: UserState[] = [];
  for (let i = 0; i < Math.ceil(connections / 2); i++) {
    const sub = `auth0|load-${i}`;
    const token = await stackToken(stack, sub, 7200);
    const user: UserState = {
      sub,
      token,
      playlists: [],
      ackedPlays: new Map(),
      ackedKeys: new Set(),
      ackedSongs: new Set(),
      uncertainPlays: new Map(),
    };
    for (let p = 0; p < 3; p++) {
      const created = await send(stack.baseUrl, user, "POST", "/playlists", {
        name: `Load ${i}-${p}`,
      });
      user.playlists.push(created.body.playlistId);
    }
    users.push(user);
  }
  latencies.length = 0;
  statuses.clear();
  requests = 0;
  for (const kind of Object.keys(kinds) as (keyof typeof kinds)[]) kinds[kind] = 0;
  stopBusyLoops = startBusyLoops(Number(values["busy-loops"]));
  console.log(
    `load: ${connections} connections, ${users.length} users, ${durationMs / 1000} s against ${stack.baseUrl}`,
  );
  const started = Date.now();
  const until = started + durationMs;
  // A progress line every 5 s: elapsed time, requests so far, rate, server errors.
  const ticker = setInterval(() => {
    const seconds = (Date.now() - started) / 1000;
    const errors = [...statuses].filter(([s]) => s >= 500).reduce((n, [, c]) => n + c, 0);
    say(
      `${Math.round(seconds)}/${durationMs / 1000} s: ${requests} requests, ${Math.round(requests / seconds)} req/s, ${errors} 5xx`,
    );
  }, 5_000);
  await Promise.all(
    Array.from({ length: connections }, (_, i) =>
      worker(stack.baseUrl, users[i % users.length] as UserState, i, until),
    ),
  );
  clearInterval(ticker);
  stopBusyLoops();
  say("auditing every acknowledged write");
  const elapsed = (Date.now() - started) / 1000;
  const sorted = [...latencies].sort((a, b) => a - b);
  const fiveXx = [...statuses]
    .filter(([status]) => status >= 500)
    .reduce((n, [, count]) => n + count, 0);
  const { problems, checkedWrites } = await audit(stack.baseUrl, users);
  const result = {
    requests,
    requestsPerSecond: Math.round(requests / elapsed),
    latencyMs: {
      p50: Math.round(percentile(sorted, 50)),
      p90: Math.round(percentile(sorted, 90)),
      p99: Math.round(percentile(sorted, 99)),
      max: Math.round(sorted.at(-1) ?? 0),
    },
    statuses: Object.fromEntries(statuses),
    fiveXx,
    fiveXxFromFunctions: kinds.functionErrors,
    fiveXxFromGateway: kinds.gatewayErrors,
    noAnswerWithin35s: kinds.noAnswer,
    errorsAnswered200: kinds.lies,
    bodiesWithStackTraces: kinds.stackTraces,
    acknowledgedWritesChecked: checkedWrites,
    lostOrWrongWrites: problems.length,
  };
  console.log(JSON.stringify(result, null, 2));
  for (const problem of problems.slice(0, 20)) console.log(`  ${problem}`);
  const passed =
    problems.length === 0 &&
    fiveXx === 0 &&
    kinds.noAnswer === 0 &&
    kinds.lies === 0 &&
    kinds.stackTraces === 0;
  console.log(
    passed ? "load: PASS (zero 5xx, every request answered, zero lost writes)" : "load: FAIL",
  );
  process.exitCode = passed ? 0 : 1;
} finally {
  stopBusyLoops();
  await stack.stop();
}
