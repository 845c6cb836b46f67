/**
 * `npm run import:auth0 -- FILE [--dry-run] [--stage NAME] [--parallel N]`: moving in all at
 * once (CONTRACT: Auth0 and the store in step). Reads an Auth0 users export (the ndjson of a
 * users-exports job, gzipped or not, told by its magic bytes) as a stream and writes each user's
 * profile as the post-login hook would, only for users the store has never seen. Resumable: the
 * last line done is kept in a progress file beside FILE (or in DATA_DIR when FILE's directory is
 * read-only), removed once the whole file is done. docs/moving-in.md tells how fast it goes.
 */
import { createHash } from "node:crypto";
import {
  createReadStream,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { open } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { createGunzip } from "node:zlib";
import { Presets, SingleBar } from "cli-progress";
import { type Migration, moveInPlan } from "../lib/domain/migration.ts";
import { commandLine } from "./local/cli.ts";
import { localSettings } from "./local/settings.ts";
import { useTables } from "./local/target.ts";

const USAGE = `usage: npm run import:auth0 -- FILE [--dry-run] [--stage NAME] [--parallel N]

Moves the users of an Auth0 users export (FILE: the newline-delimited JSON of a users-exports
job, gzipped or not; one user a line with user_id, user_metadata, app_metadata) into the store,
each as the post-login hook would at their first login: user_metadata, and of app_metadata plan
and denied_roles, under the metadata rules. A user the store has seen (a profile, songs or
plays, a deletion) is left as it is; a key that breaks a rule stays out, named on stderr with
the user id (never its value). Running it again changes nothing.

  (default)      the tables of the running npm start (its DynamoDB Local)
  --stage NAME   the deployed stage's tables (names from serverless.yml), with the AWS
                 credentials and region of the SDK's default chain (AWS_PROFILE, AWS_REGION, ...)
  --dry-run      writes nothing: counts the profiles over Auth0's 10 KB today and after moving
  --parallel N   batches of 25 users in flight at once (default 4 with --stage: at most 100
                 writes; 1 locally, so that the running API keeps answering meanwhile)

Progress (users done, per second, left) shows on a terminal. An interrupted run resumes where
it stopped: the last line done is kept in FILE.progress.json (in DATA_DIR when FILE's directory
is read-only) until the whole file is done. Ends with "imported N, already present N, skipped N"
(skipped: lines that are not a user, users with nothing that may move); exit 1 if FILE cannot
be read.`;

const { positionals, values } = commandLine(USAGE, {
  allowPositionals: true,
  options: {
    "dry-run": { type: "boolean", default: false },
    stage: { type: "string" },
    parallel: { type: "string" },
  },
});
const [file] = positionals;
/**
 * Batches in flight. Locally one (25 writes): DynamoDB Local serves some tens of writes a second,
 * and a deeper queue would time the running API's own requests out (503) during the import.
 */
const parallel = Number(values.parallel ?? (values.stage ? 4 : 1));
const wrong = !file
  ? "FILE is missing"
  : positionals.length > 1
    ? "one FILE at a time"
    : !Number.isInteger(parallel) || parallel < 1
      ? "--parallel must be a positive integer"
      : undefined;
if (wrong || !file) {
  console.error(`${wrong}\n\n${USAGE}`);
  process.exit(2);
}
const input = resolve(file);

/** Auth0 caps a user profile at 10 KB: the serialized user, as the export's line holds it. */
const AUTH0_PROFILE_LIMIT = 10 * 1024;

let size: number;
let gzipped: boolean;
try {
  size = statSync(input).size;
  const handle = await open(input);
  const magic = Buffer.alloc(2);
  await handle.read(magic, 0, 2, 0);
  await handle.close();
  gzipped = magic[0] === 0x1f && magic[1] === 0x8b;
} catch (error) {
  console.error(`import:auth0: cannot read ${file}: ${(error as Error).message}`);
  process.exit(1);
}

/** The export's lines, streamed, and how many bytes of FILE were read so far. */
function readLines() {
  const raw = createReadStream(input);
  const read = { bytes: 0 };
  raw.on("data", (chunk) => {
    read.bytes += chunk.length;
  });
  const text = gzipped ? raw.pipe(createGunzip()) : raw;
  // A read error (or a corrupt gzip) ends the line stream with it, instead of hanging.
  if (gzipped) raw.on("error", (error) => text.destroy(error));
  return { lines: createInterface({ input: text, crlfDelay: Number.POSITIVE_INFINITY }), read };
}

type Parsed = { userId: string; line: Record<string, unknown> } | { problem: string };

/** One line as a user of the export, or why it is not one (never quoting the line). */
function parseLine(text: string): Parsed {
  let line: unknown;
  try {
    line = JSON.parse(text);
  } catch {
    return { problem: "not JSON" };
  }
  if (typeof line !== "object" || line === null || Array.isArray(line))
    return { problem: "not a JSON object" };
  const userId = (line as { user_id?: unknown }).user_id;
  if (typeof userId !== "string" || userId === "") return { problem: "no user_id" };
  return { userId, line: line as Record<string, unknown> };
}

/** What moves of a parsed user; each key left out is named on stderr (key and rule only). */
function plan(userId: string, line: Record<string, unknown>): Migration {
  const { migration, leftOut } = moveInPlan({
    userId,
    userMetadata: line.user_metadata,
    appMetadata: line.app_metadata,
  });
  for (const key of leftOut) {
    console.error(`import:auth0: ${key.userId}: ${key.key} left out: ${key.reason}`);
  }
  return migration;
}

const counts = { imported: 0, present: 0, skipped: 0 };
const summary = (c: typeof counts) =>
  `imported ${c.imported}, already present ${c.present}, skipped ${c.skipped}`;

/** A progress bar on a terminal only: users done, per second, and an estimate of those left. */
function progressBar(read: { bytes: number }) {
  if (!process.stderr.isTTY) return { tick: (_users: number) => {}, stop: () => {} };
  const bar = new SingleBar(
    {
      stream: process.stderr,
      format:
        "{bar} {percentage}% | {users} users | {speed}/s | ~{left} left | ETA {eta_formatted}",
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  const started = Date.now();
  bar.start(size, 0, { users: 0, speed: 0, left: "?" });
  return {
    tick(users: number) {
      const seconds = (Date.now() - started) / 1000;
      // Users left, from the share of FILE still unread (compressed bytes for a gzip).
      const left = read.bytes > 0 ? Math.round((users * (size - read.bytes)) / read.bytes) : "?";
      bar.update(read.bytes, {
        users,
        speed: seconds > 0 ? Math.round(users / seconds) : 0,
        left,
      });
    },
    stop: () => bar.stop(),
  };
}

async function dryRun(): Promise<void> {
  const { lines, read } = readLines();
  const bar = progressBar(read);
  let users = 0;
  let overToday = 0;
  let overAfter = 0;
  let moving = 0;
  for await (const text of lines) {
    if (!text.trim()) continue;
    const parsed = parseLine(text);
    if ("problem" in parsed) continue;
    users++;
    const migration = plan(parsed.userId, parsed.line);
    if (Buffer.byteLength(text.trim(), "utf8") > AUTH0_PROFILE_LIMIT) overToday++;
    const kept = { ...(parsed.line.user_metadata as Record<string, unknown> | undefined) };
    for (const key of migration.moved) delete kept[key];
    const after = { ...parsed.line, user_metadata: kept };
    if (Buffer.byteLength(JSON.stringify(after), "utf8") > AUTH0_PROFILE_LIMIT) overAfter++;
    if (migration.moved.length) moving++;
    if (users % 500 === 0) bar.tick(users);
  }
  bar.stop();
  console.log(
    `dry run: ${users} users, ${moving} with user_metadata to move; over 10 KB: ${overToday} today, ${overAfter} after moving`,
  );
}

/** Where the progress of FILE is kept: beside it, or in DATA_DIR when that cannot be written. */
const progressFiles = [
  `${input}.progress.json`,
  join(
    localSettings().dataDir,
    "import-progress",
    `${createHash("sha256").update(input).digest("hex").slice(0, 16)}-${basename(input)}.json`,
  ),
];

interface Progress {
  input: string;
  size: number;
  mtimeMs: number;
  /** Every line up to this one (1-based) is done. */
  line: number;
  counts: typeof counts;
}

function readProgress(): Progress | undefined {
  const { mtimeMs } = statSync(input);
  for (const path of progressFiles) {
    try {
      const kept = JSON.parse(readFileSync(path, "utf8")) as Progress;
      // Only for this very file: another export of the same name starts over.
      if (kept.input === input && kept.size === size && kept.mtimeMs === mtimeMs) return kept;
    } catch {
      // none kept here
    }
  }
  return undefined;
}

function writeProgress(line: number, done: typeof counts): void {
  // Nothing done yet: nothing to resume from.
  if (line === 0) return;
  const kept: Progress = { input, size, mtimeMs: statSync(input).mtimeMs, line, counts: done };
  for (const path of progressFiles) {
    try {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, JSON.stringify(kept));
      return;
    } catch {
      // read-only here: the next place
    }
  }
}

function clearProgress(): void {
  for (const path of progressFiles) rmSync(path, { force: true });
}

async function importAll(): Promise<void> {
  await useTables("import:auth0", values.stage);
  const { MOVE_IN_BATCH, moveInBatch } = await import("../lib/domain/moving-in.ts");
  const resumed = readProgress();
  const from = resumed?.line ?? 0;
  if (resumed) {
    Object.assign(counts, resumed.counts);
    console.error(`import:auth0: resuming after line ${from}`);
  }
  const { lines, read } = readLines();
  const bar = progressBar(read);

  /** A run of lines sent together; they count once every earlier run is done too. */
  interface Unit {
    last: number;
    users: { userId: string; migration: Migration }[];
    counts: typeof counts;
    done: boolean;
  }
  const units: Unit[] = [];
  let current: Unit = {
    last: from,
    users: [],
    counts: { imported: 0, present: 0, skipped: 0 },
    done: false,
  };
  let watermark = from;
  let dirty = false;
  let usersDone = 0;
  let failure: unknown;
  const inFlight = new Set<Promise<void>>();

  const advance = () => {
    while (units[0]?.done) {
      const unit = units.shift() as Unit;
      watermark = unit.last;
      counts.imported += unit.counts.imported;
      counts.present += unit.counts.present;
      counts.skipped += unit.counts.skipped;
      dirty = true;
    }
  };
  const dispatch = () => {
    const unit = current;
    current = {
      last: unit.last,
      users: [],
      counts: { imported: 0, present: 0, skipped: 0 },
      done: false,
    };
    units.push(unit);
    const work = (async () => {
      const outcomes = unit.users.length ? await moveInBatch(unit.users) : [];
      for (const outcome of outcomes) {
        if (outcome === "imported") unit.counts.imported++;
        else if (outcome === "present") unit.counts.present++;
        else unit.counts.skipped++;
      }
      usersDone += unit.users.length;
      // Only its counts wait for the runs before it: what it moved is let go.
      unit.users = [];
      unit.done = true;
      advance();
    })()
      .catch((error: unknown) => {
        failure ??= error;
      })
      // Gone from the set before anyone waiting on it resumes.
      .finally(() => inFlight.delete(work));
    inFlight.add(work);
  };

  const saver = setInterval(() => {
    bar.tick(usersDone);
    if (dirty) {
      dirty = false;
      writeProgress(watermark, counts);
    }
  }, 500);
  const interrupted = () => {
    clearInterval(saver);
    bar.stop();
    writeProgress(watermark, counts);
    console.error(`import:auth0: interrupted; the next run resumes after line ${watermark}`);
    console.log(summary(counts));
    process.exit(130);
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);

  let lineNo = 0;
  try {
    for await (const text of lines) {
      lineNo++;
      if (lineNo <= from) continue;
      current.last = lineNo;
      if (!text.trim()) continue;
      const parsed = parseLine(text);
      if ("problem" in parsed) {
        console.error(`import:auth0: line ${lineNo} skipped: ${parsed.problem}`);
        current.counts.skipped++;
        continue;
      }
      current.users.push({ userId: parsed.userId, migration: plan(parsed.userId, parsed.line) });
      if (current.users.length === MOVE_IN_BATCH) dispatch();
      while (inFlight.size >= parallel) await Promise.race(inFlight);
      if (failure) throw failure;
    }
    dispatch();
    await Promise.all(inFlight);
    if (failure) throw failure;
  } catch (error) {
    clearInterval(saver);
    bar.stop();
    writeProgress(watermark, counts);
    const message = (error as Error).message;
    if (lineNo === 0 || (error as NodeJS.ErrnoException).code?.startsWith("Z_")) {
      console.error(`import:auth0: cannot read ${file}: ${message}`);
    } else {
      console.error(
        `import:auth0: stopped at line ${watermark + 1}: ${message}; run again to resume`,
      );
    }
    console.log(summary(counts));
    process.exit(1);
  }
  clearInterval(saver);
  bar.tick(usersDone);
  bar.stop();
  clearProgress();
  console.log(summary(counts));
  process.exit(0);
}

if (values["dry-run"]) {
  try {
    await dryRun();
  } catch (error) {
    console.error(`import:auth0: cannot read ${file}: ${(error as Error).message}`);
    process.exit(1);
  }
} else {
  await importAll();
}
