/**
 * One caller cannot take what another gets (CONTRACT: Per-caller limits), over HTTP through
 * `npm start`: a user flooding writes at ten times their rate is held to their budget, while a
 * second user, at an honest pace beside them, gets every request answered; a user exporting as
 * fast as they can makes the tables spend no more than their budget in capacity units, counted
 * here from what DynamoDB reports (the stack's DynamoDB Local sits behind a counting proxy).
 */
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../../lib/ids.ts";
import { startDynamoProxy } from "../../scripts/local/dynamo-proxy.ts";
import { type LocalDynamoDb, startDynamoDb } from "../../scripts/local/dynamodb.ts";
import { freePort } from "../../scripts/local/ports.ts";
import { loadTableDefinitions } from "../../scripts/local/serverless-config.ts";
import {
  LOCAL_TENANT,
  type RunningStack,
  stackToken,
  startStack,
} from "../../scripts/local/stack.ts";
import { localClient } from "../../scripts/local/tables.ts";
import { checkAgainstContract } from "../helpers/contract.ts";
import { writeItems } from "../helpers/tables.ts";

const WRITES_PER_SECOND = 2;
const READS_PER_SECOND = 10;
/** The contract's default budget of read units: 100 a second, bursts of 200. */
const READ_UNITS = 100;
let stack: RunningStack;
let dynamo: LocalDynamoDb;
let proxy: Awaited<ReturnType<typeof startDynamoProxy>>;
const tables = Object.fromEntries(
  loadTableDefinitions("dev").map((d) => [d.logicalId, d.properties.TableName as string]),
);

beforeAll(async () => {
  dynamo = await startDynamoDb({ port: await freePort() });
  proxy = await startDynamoProxy(Number(new URL(dynamo.endpoint).port), { measureCapacity: true });
  stack = await startStack({
    ...LOCAL_TENANT,
    EXTERNAL_DYNAMODB_ENDPOINT: proxy.endpoint,
    USER_WRITES_PER_SECOND: String(WRITES_PER_SECOND),
    USER_READS_PER_SECOND: String(READS_PER_SECOND),
    USER_READ_UNITS_PER_SECOND: String(READ_UNITS),
    USER_WRITE_UNITS_PER_SECOND: "50",
    LOG_LEVEL: "WARN",
  });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await proxy?.close();
  await dynamo?.stop();
});

/** Items written straight into the stack's DynamoDB, past the counting proxy. */
async function seed(table: string, items: Record<string, unknown>[]): Promise<void> {
  const db = DynamoDBDocumentClient.from(localClient(dynamo.endpoint));
  await writeItems(table, items, db);
  db.destroy();
}

/** `count` playlists of 500 ids of 64 characters, about 33 kB each. */
const largePlaylists = (count: number, fields: (id: string) => Record<string, unknown>) =>
  Array.from({ length: count }, () => {
    const id = newId();
    const now = new Date().toISOString();
    return {
      ...fields(id),
      name: "€".repeat(100),
      song_ids: Array.from({ length: 500 }, () => newId().padEnd(64, "x")),
      created_at: now,
      updated_at: now,
    };
  });

/** What the tables (not the limiter's own) spent on requests naming `sub`. */
function spentOn(sub: string) {
  const all = proxy.capacityUnitsMentioning(sub);
  const limiter = proxy.capacityUnitsMentioning(sub, tables.RateLimitsTable);
  return { read: all.read - limiter.read, write: all.write - limiter.write };
}

async function send(token: string, method: string, path: string, body?: unknown) {
  const url = `${stack.baseUrl}${path}`;
  const response = await fetch(url, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body ? { "content-type": "application/json" } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  checkAgainstContract(method, url, response.status, response.headers, text);
  return {
    status: response.status,
    body: text ? JSON.parse(text) : undefined,
    headers: response.headers,
  };
}

describe("per-caller limits under npm start", () => {
  it("hold a user flooding at ten times their write rate to their budget; a second user gets every answer", async () => {
    const flooder = await stackToken(stack, "auth0|flooder");
    const honest = await stackToken(stack, "auth0|honest");
    const started = Date.now();
    const until = started + 4_000;
    const flood: { status: number; errorCode?: string; retryAfter: string | null }[] = [];
    let honestDone = false;
    // Ten loops without pause: well over ten times two writes a second, for 4 s and for as long
    // as the honest user is still at it.
    const flooding = Promise.all(
      Array.from({ length: 10 }, async (_, loop) => {
        let n = 0;
        while (Date.now() < until || !honestDone) {
          const answer = await send(flooder, "PUT", "/displayName", {
            displayName: `F${loop}-${n++}`,
          });
          flood.push({
            status: answer.status,
            errorCode: answer.body?.errorCode,
            retryAfter: answer.headers.get("retry-after"),
          });
        }
      }),
    );
    const honestAnswers: number[] = [];
    // At least two rounds (a busy machine answers slowly), and as many as the 4 s hold.
    for (let round = 0; round < 2 || Date.now() < until; round++) {
      honestAnswers.push(
        (await send(honest, "PUT", "/displayName", { displayName: `H${honestAnswers.length}` }))
          .status,
      );
      for (let i = 0; i < 3; i++)
        honestAnswers.push((await send(honest, "GET", "/displayName")).status);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    honestDone = true;
    await flooding;
    const seconds = (Date.now() - started) / 1000;

    expect(honestAnswers.length).toBeGreaterThanOrEqual(8);
    expect(
      honestAnswers.every((status) => status === 200),
      JSON.stringify(honestAnswers),
    ).toBe(true);

    const accepted = flood.filter((a) => a.status === 200).length;
    const refused = flood.filter((a) => a.status === 429);
    expect(flood.length).toBeGreaterThanOrEqual(10 * WRITES_PER_SECOND * 4);
    // The burst (twice the rate) and the rate over the time the flood ran.
    expect(accepted).toBeLessThanOrEqual(
      2 * WRITES_PER_SECOND + Math.ceil(WRITES_PER_SECOND * seconds),
    );
    expect(refused.length).toBe(flood.length - accepted);
    for (const answer of refused) {
      expect(answer.errorCode).toBe("rate_limited");
      expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
    }
  }, 60_000);
});

describe("budgets in capacity units under npm start", () => {
  it("hold a user exporting as fast as they can for 10 s to burst + rate × T + 1,000 read units, while a second user's requests all answer 200", async () => {
    const flooder = "auth0|exporter";
    const flooderToken = await stackToken(stack, flooder);
    const honestToken = await stackToken(stack, "auth0|beside-the-exporter");
    // Over 4 MB of playlists: an export page uncut by cost read 1,312 units.
    await seed(
      tables.PlaylistsTable as string,
      largePlaylists(130, (id) => ({ user_id: flooder, playlist_id: id })),
    );
    const started = Date.now();
    const until = started + 10_000;
    const statuses: number[] = [];
    const exporting = Promise.all(
      Array.from({ length: 4 }, async () => {
        while (Date.now() < until) {
          const answer = await send(
            flooderToken,
            "GET",
            `/users/${encodeURIComponent(flooder)}/export`,
          );
          expect(answer.headers.get("ratelimit")).toMatch(/^"reads";r=\d+;t=\d+, "writes"/);
          statuses.push(answer.status);
        }
      }),
    );
    const honest: number[] = [];
    while (Date.now() < until) {
      honest.push((await send(honestToken, "GET", "/displayName")).status);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await exporting;
    const seconds = (Date.now() - started) / 1000;
    const { read } = spentOn(flooder);
    expect(statuses.filter((status) => status === 200).length).toBeGreaterThan(0);
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThan(0);
    expect(read).toBeLessThanOrEqual(2 * READ_UNITS + READ_UNITS * seconds + 1_000);
    expect(honest.length).toBeGreaterThanOrEqual(4);
    expect(
      honest.every((status) => status === 200),
      JSON.stringify(honest),
    ).toBe(true);
  }, 60_000);

  it("answer the featured list for twenty different limits at what a cached read costs", async () => {
    const reader = await stackToken(stack, "auth0|featured-reader");
    await seed(
      tables.FeaturedPlaylistsTable as string,
      largePlaylists(40, (id) => ({
        shelf: "live",
        playlist_id: id,
        user_id: "auth0|an-editor",
        created_by: "auth0|an-editor",
        updated_by: "auth0|an-editor",
        plays: 0,
      })),
    );
    const featured = tables.FeaturedPlaylistsTable as string;
    const unitsOf = () => proxy.capacityUnitsOf(featured).table.read;
    let before = unitsOf();
    expect((await send(reader, "GET", "/playlists/featured?limit=100")).status).toBe(200);
    const firstRead = unitsOf() - before;
    before = unitsOf();
    for (let limit = 81; limit <= 100; limit++) {
      const answer = await send(reader, "GET", `/playlists/featured?limit=${limit}`);
      expect(answer.status).toBe(200);
    }
    const twenty = unitsOf() - before;
    // Each request reads the version stamp (one unit); a page of another size is sliced out of
    // the cached block, read again at most once more by a second worker of the function.
    expect(twenty).toBeLessThanOrEqual(20 + firstRead);
    expect(firstRead).toBeGreaterThan(20);
  }, 60_000);
});
