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
  invoke(genres, httpEvent("genres-putFav", { token, body: { genre } }));
const get = (token: string) => invoke(genres, httpEvent("genres-getFav", { token }));

describe("per-caller limits", () => {
  it("cost one conditional write per write, and one per batch of five reads", async () => {
    const token = await tokenFor(uniqueUser());
    expect(await limiterCallsOf(() => put(token, "jazz"))).toEqual(["UpdateItemCommand"]);
    const reads = await limiterCallsOf(async () => {
      for (let i = 0; i < 5; i++) expect((await get(token)).statusCode).toBe(200);
    });
    expect(reads).toEqual(["UpdateItemCommand"]);
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
        return invoke(postLogin, httpEvent("postLogin-http", { token: action, body: { user } }));
      }),
    );
    expect(logins.map((r) => r.statusCode)).toEqual(Array(20).fill(200));
    // One user logging in twenty times at once is held to that user's budget.
    const user = { user_id: uniqueUser(), email: "u@example.com", name: "U" };
    const same = await Promise.all(
      Array.from({ length: 20 }, () =>
        invoke(postLogin, httpEvent("postLogin-http", { token: action, body: { user } })),
      ),
    );
    expect(same.filter((r) => r.statusCode === 429).length).toBeGreaterThan(0);
  });
});
