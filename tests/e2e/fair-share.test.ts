/**
 * One caller cannot take what another gets (CONTRACT: Per-caller limits), over HTTP through
 * `npm start`: a user flooding writes at ten times their rate is held to their budget, while a
 * second user, at an honest pace beside them, gets every request answered.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  LOCAL_TENANT,
  type RunningStack,
  stackToken,
  startStack,
} from "../../scripts/local/stack.ts";
import { checkAgainstContract } from "../helpers/contract.ts";

const WRITES_PER_SECOND = 2;
const READS_PER_SECOND = 10;
let stack: RunningStack;

beforeAll(async () => {
  stack = await startStack({
    ...LOCAL_TENANT,
    USER_WRITES_PER_SECOND: String(WRITES_PER_SECOND),
    USER_READS_PER_SECOND: String(READS_PER_SECOND),
    LOG_LEVEL: "WARN",
  });
}, 180_000);

afterAll(() => stack?.stop());

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
