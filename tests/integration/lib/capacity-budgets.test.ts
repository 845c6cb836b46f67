/**
 * Budgets in capacity units (CONTRACT: Per-caller limits), at the contract's defaults: 100 read
 * and 50 write units a second per caller, bursts of twice that. What the tables spend is counted
 * here from what DynamoDB reports for each request (ReturnConsumedCapacity), apart from the
 * code's own meter: a caller flooding the costliest route makes the tables spend at most
 * burst + rate × T + one request's cost, no request costs more than 1,000 units, and another
 * caller gets every answer, each with the RateLimit fields.
 */
import { describe, expect, it, vi } from "vitest";

vi.hoisted(() => {
  process.env.USER_READ_UNITS_PER_SECOND = "";
  process.env.USER_WRITE_UNITS_PER_SECOND = "";
});

import { handler as genres } from "../../../functions/getFavGenre.ts";
import { handler as users } from "../../../functions/users.ts";
import { PLAYLISTS_TABLE } from "../../../lib/db/playlists.ts";
import { take } from "../../../lib/db/rate-limits.ts";
import { newId } from "../../../lib/ids.ts";
import { limiterCallsOf, readUnitsOf } from "../../helpers/calls.ts";
import { httpEvent, invoke } from "../../helpers/invoke.ts";
import { writeItems } from "../../helpers/tables.ts";
import { tokenFor, uniqueUser } from "../../helpers/tokens.ts";

const exportOf = (token: string, userId: string) =>
  invoke(
    users,
    httpEvent("exportUser", {
      token,
      rawPath: `/users/${encodeURIComponent(userId)}/export`,
      pathParameters: { userId },
    }),
  );

/** `count` playlists of 500 ids of 64 characters (about 33 kB each), stored directly. */
async function storeLargePlaylists(userId: string, count: number): Promise<void> {
  const now = new Date().toISOString();
  await writeItems(
    PLAYLISTS_TABLE,
    Array.from({ length: count }, () => ({
      user_id: userId,
      playlist_id: newId(),
      name: "€".repeat(100),
      song_ids: Array.from({ length: 500 }, () => newId().padEnd(64, "x")),
      created_at: now,
      updated_at: now,
    })),
  );
}

const RATE_LIMIT = /^"reads";r=\d+;t=\d+, "writes";r=\d+;t=\d+$/;

describe("budgets in capacity units", () => {
  it("hold a caller exporting the largest playlists as fast as they can, three at a time, to burst + rate × T + one request, while another caller reads on", async () => {
    const flooder = uniqueUser();
    const flooderToken = await tokenFor(flooder);
    const honestToken = await tokenFor(uniqueUser());
    // 130 playlists of 33 kB: over 4 MB, more than one request may read.
    await storeLargePlaylists(flooder, 130);
    const started = Date.now();
    const statuses: number[] = [];
    const honest: number[] = [];
    const floodFor = async () => {
      while (Date.now() - started < 6_000) {
        const answer = await exportOf(flooderToken, flooder);
        expect(answer.headers.ratelimit).toMatch(RATE_LIMIT);
        statuses.push(answer.statusCode);
      }
    };
    const readOn = async () => {
      while (Date.now() - started < 6_000) {
        const answer = await invoke(genres, httpEvent("getFavouriteGenre", { token: honestToken }));
        honest.push(answer.statusCode);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    const total = await readUnitsOf(flooder, () =>
      Promise.all([floodFor(), floodFor(), floodFor(), readOn()]),
    );
    const seconds = (Date.now() - started) / 1000;
    expect(statuses.filter((status) => status === 200).length).toBeGreaterThan(0);
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThan(0);
    expect(statuses.every((status) => status === 200 || status === 429)).toBe(true);
    expect(total).toBeLessThanOrEqual(200 + 100 * seconds + 1_000);
    expect(honest.length).toBeGreaterThan(10);
    expect(honest.every((status) => status === 200)).toBe(true);
  });

  it("cut an export page at 1,000 units, and answer a spent budget with 429 rate_limited, Retry-After and the RateLimit fields saying nothing remains", async () => {
    const sub = uniqueUser();
    const token = await tokenFor(sub);
    // Over 4 MB: the first page of its export, uncut, read 1,312 units.
    await storeLargePlaylists(sub, 130);
    let refused: Awaited<ReturnType<typeof exportOf>> | undefined;
    for (let i = 0; i < 20 && !refused; i++) {
      let answer: Awaited<ReturnType<typeof exportOf>> | undefined;
      const units = await readUnitsOf(sub, async () => {
        answer = await exportOf(token, sub);
      });
      expect(units).toBeLessThanOrEqual(1_000);
      if (answer?.statusCode === 429) refused = answer;
    }
    expect(refused?.body).toMatchObject({ statusCode: 429, errorCode: "rate_limited" });
    expect(Number(refused?.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(refused?.headers["ratelimit-policy"]).toBe('"reads";q=200;w=1, "writes";q=100;w=1');
    expect(refused?.headers.ratelimit).toMatch(/^"reads";r=0;t=[1-9]\d*, "writes";r=100;t=0$/);
  });

  it("never take more than the burst from an idle bucket, so that a first reservation past it (the export's 1,000 units) leaves no debt for other containers to refuse", async () => {
    const bucket = { id: `units-reads#${uniqueUser()}`, intervalMs: 10, burst: 200 };
    const now = Date.now();
    // 1,000 units of a full 200: refused, saying when they would be there (800 × 10 ms).
    expect(await take(bucket, 1000, now)).toEqual({ taken: false, retryAfterMs: 8000 });
    // What is left is taken, and the bucket is empty, not 8 s in debt.
    expect(await take(bucket, 200, now)).toEqual({ taken: true, tat: now + 2000 });
  });

  it("cost the limiter itself a few writes for many cheap reads: batches held per container", async () => {
    const token = await tokenFor(uniqueUser());
    const writes = await limiterCallsOf(async () => {
      for (let i = 0; i < 60; i++) {
        const answer = await invoke(genres, httpEvent("getFavouriteGenre", { token }));
        expect(answer.statusCode).toBe(200);
      }
    }, "units");
    expect(writes.length).toBeLessThanOrEqual(10);
  });
});
