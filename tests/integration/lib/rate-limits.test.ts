/**
 * Per-caller limits (CONTRACT: Per-caller limits) at the contract's default rates: 5 writes and
 * 20 reads a second per caller, bursts of twice that, shared by every container through
 * DynamoDB. One caller's flood leaves another's budget whole; a refused request does nothing.
 */
import { describe, expect, it, vi } from "vitest";

vi.hoisted(() => {
  process.env.USER_WRITES_PER_SECOND = "";
  process.env.USER_READS_PER_SECOND = "";
});

import { handler as genres } from "../../../functions/getFavGenre.ts";
import { handler as postLogin } from "../../../functions/postLogin.ts";
import { getProfile } from "../../../lib/db/profiles.ts";
import { dynamoCallsOf, limiterCallsOf } from "../../helpers/calls.ts";
import { httpEvent, invoke } from "../../helpers/invoke.ts";
import { machineTokenFor, tokenFor, uniqueUser } from "../../helpers/tokens.ts";

const put = (token: string, genre: string) =>
  invoke(genres, httpEvent("setFavouriteGenre", { token, body: { genre } }));
const get = (token: string) => invoke(genres, httpEvent("getFavouriteGenre", { token }));

describe("per-caller limits", () => {
  it("cost one conditional write per write; reads in quick succession one for the first and one per batch of five after", async () => {
    const token = await tokenFor(uniqueUser());
    expect(await limiterCallsOf(() => put(token, "jazz"))).toEqual(["UpdateItemCommand"]);
    // The clock stands still (Date only): the reads come faster than any pace, as a burst does.
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const reads = await limiterCallsOf(async () => {
        for (let i = 0; i < 6; i++) expect((await get(token)).statusCode).toBe(200);
      });
      // One unit for the first; a batch of five for the next (idle bucket, then a busy one: 2).
      expect(reads.length).toBeLessThanOrEqual(3);
    } finally {
      vi.useRealTimers();
    }
  });

  it("cost one round trip per write for a caller writing faster than its interval", async () => {
    const token = await tokenFor(uniqueUser());
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const writes = await limiterCallsOf(async () => {
        for (let i = 0; i < 5; i++) expect((await put(token, `w${i}`)).statusCode).toBe(200);
      });
      expect(writes).toEqual(Array(5).fill("UpdateItemCommand"));
    } finally {
      vi.useRealTimers();
    }
  });

  it("remember a refusal in the container: a refused caller's next requests cost the shared table nothing until the budget refills", async () => {
    const token = await tokenFor(uniqueUser());
    // The clock stands still (Date only), so the budget refills only when the test says.
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      for (let i = 0; i < 10; i++) expect((await put(token, `g${i}`)).statusCode).toBe(200);
      const writes = await limiterCallsOf(async () => {
        for (let i = 0; i < 20; i++) {
          const refused = await put(token, `flood-${i}`);
          expect(refused.statusCode).toBe(429);
          expect(refused.body).toMatchObject({ statusCode: 429, errorCode: "rate_limited" });
          expect(refused.headers["retry-after"]).toBe("1");
        }
      });
      // At most the first refusal asks the table; the rest are answered in the container.
      expect(writes.length).toBeLessThanOrEqual(1);
      // Reads until the first refusal, then forty more: those cost the table nothing.
      let first = 0;
      while ((await get(token)).statusCode === 200) first++;
      expect(first).toBe(40);
      const reads = await limiterCallsOf(async () => {
        for (let i = 0; i < 40; i++) expect((await get(token)).statusCode).toBe(429);
      });
      expect(reads).toEqual([]);
      // One write's worth of budget later (200 ms at 5 a second), the caller writes again.
      vi.setSystemTime(Date.now() + 200);
      expect((await put(token, "after")).statusCode).toBe(200);
    } finally {
      vi.useRealTimers();
    }
  });

  it("give a caller spread over many containers its whole burst of reads, one unit each, and no more", async () => {
    const sub = uniqueUser();
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      // Forty containers (fresh module instances), one read each: the burst of 40.
      const answers: string[] = [];
      for (let i = 0; i < 41; i++) {
        vi.resetModules();
        const container = await import("../../../lib/domain/rate-limits.ts");
        answers.push(
          await container.spendRead(sub).then(
            () => "read",
            (error: Error) => error.constructor.name,
          ),
        );
      }
      expect(answers.slice(0, 40)).toEqual(Array(40).fill("read"));
      expect(answers[40]).toBe("TooManyRequestsError");
    } finally {
      vi.useRealTimers();
    }
  });

  it("refuse a flood of writes past the burst with 429 rate_limited, doing nothing, and leave another caller whole", async () => {
    const flooder = uniqueUser();
    const flooderToken = await tokenFor(flooder);
    const otherToken = await tokenFor(uniqueUser());
    // 50 writes at once: ten times the rate, against a burst of 10.
    let flood: Awaited<ReturnType<typeof put>>[] = [];
    const started = Date.now();
    const floodCalls = await dynamoCallsOf(async () => {
      flood = await Promise.all(
        Array.from({ length: 50 }, (_, i) => put(flooderToken, `genre-${i}`)),
      );
    });
    const seconds = (Date.now() - started) / 1000;
    const accepted = flood.filter((r) => r.statusCode === 200).length;
    const refused = flood.filter((r) => r.statusCode === 429);
    // Exactly the budget: the burst, and what refills while the flood is being answered.
    expect(accepted).toBeGreaterThanOrEqual(10);
    expect(accepted).toBeLessThanOrEqual(10 + Math.ceil(5 * seconds));
    expect(refused.length).toBe(50 - accepted);
    for (const answer of refused) {
      expect(answer.body).toMatchObject({ statusCode: 429, errorCode: "rate_limited" });
      expect(Number(answer.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    }
    // The other caller's writes, in the same second: every one lands.
    const other = await Promise.all(
      Array.from({ length: 8 }, (_, i) => put(otherToken, `mine-${i}`)),
    );
    expect(other.map((r) => r.statusCode)).toEqual(Array(8).fill(200));
    // A refused write reaches no table but the limiter's: one profile update per accepted one.
    expect(floodCalls).toEqual(Array(accepted).fill("UpdateItemCommand"));
    const stored = (await getProfile(flooder))?.favGenre;
    const acceptedGenres = flood.flatMap((r, i) => (r.statusCode === 200 ? [`genre-${i}`] : []));
    expect(acceptedGenres).toContain(stored);
  });

  it("refuse reads past their burst of 40", async () => {
    const token = await tokenFor(uniqueUser());
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 80 }, () => get(token)));
    const seconds = (Date.now() - started) / 1000;
    const ok = answers.filter((r) => r.statusCode === 200).length;
    expect(ok).toBeGreaterThanOrEqual(40);
    // The burst, the refill while the 80 are answered, and at most one held batch more.
    expect(ok).toBeLessThanOrEqual(40 + Math.ceil(20 * seconds) + 5);
    expect(answers.filter((r) => r.statusCode === 429).length).toBe(80 - ok);
  });

  it("count the post-login hook against the user it runs for, not the Action's one client", async () => {
    const action = await machineTokenFor("action-client", "run:post_login");
    // Twenty logins of different users through one client at once: twice its write burst.
    const logins = await Promise.all(
      Array.from({ length: 20 }, () => {
        const user = { user_id: uniqueUser(), email: "u@example.com", name: "U" };
        return invoke(postLogin, httpEvent("runPostLogin", { token: action, body: { user } }));
      }),
    );
    expect(logins.map((r) => r.statusCode)).toEqual(Array(20).fill(200));
    // One user logging in twenty times at once is held to that user's budget.
    const user = { user_id: uniqueUser(), email: "u@example.com", name: "U" };
    const same = await Promise.all(
      Array.from({ length: 20 }, () =>
        invoke(postLogin, httpEvent("runPostLogin", { token: action, body: { user } })),
      ),
    );
    expect(same.filter((r) => r.statusCode === 429).length).toBeGreaterThan(0);
  });
});
