/**
 * `npm start` on a busy machine (two CPU-bound loops beside it, as a build would be): a burst of
 * plays of one user answers each request within API Gateway's 30 s, with the Playlist or a
 * documented 5xx, never a 200 carrying an error and never a stack trace; and what the plays
 * counted is what the 200s said.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  LOCAL_TENANT,
  type RunningStack,
  stackToken,
  startBusyLoops,
  startStack,
} from "../../scripts/local/stack.ts";

const PLAYS = 150;
/** What API Gateway answers for an integration that failed, timed out or was throttled. */
const GATEWAY_ERRORS = new Set([500, 503, 504]);

let stack: RunningStack;
let token: string;
let stopBusyLoops: () => void = () => undefined;

beforeAll(async () => {
  stack = await startStack({ ...LOCAL_TENANT, PLAY_COOLDOWN_SECONDS: "0", LOG_LEVEL: "WARN" });
  token = await stackToken(stack, "auth0|busy-machine");
}, 180_000);

afterAll(async () => {
  stopBusyLoops();
  await stack?.stop();
});

async function send(method: string, path: string, body?: unknown) {
  const started = Date.now();
  try {
    const response = await fetch(`${stack.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body ? { "content-type": "application/json" } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(35_000),
    });
    return { status: response.status, text: await response.text(), ms: Date.now() - started };
  } catch (error) {
    return { status: 0, text: String(error), ms: Date.now() - started };
  }
}

describe("npm start beside two busy loops", () => {
  it(`answers ${PLAYS} parallel plays of one user truthfully, each within 30 s`, async () => {
    const created = await send("POST", "/playlists", { name: "Busy evening" });
    expect(created.status).toBe(201);
    const { playlistId } = JSON.parse(created.text);

    stopBusyLoops = startBusyLoops(2);
    const answers = await Promise.all(
      Array.from({ length: PLAYS }, () => send("POST", `/playlists/${playlistId}/plays`)),
    );
    stopBusyLoops();

    const byStatus = new Map<number, number>();
    for (const answer of answers)
      byStatus.set(answer.status, (byStatus.get(answer.status) ?? 0) + 1);
    const summary = JSON.stringify(Object.fromEntries(byStatus));
    for (const answer of answers) {
      // Every request answered, within API Gateway's 30 s (and a little for the client).
      expect(answer.status, summary).not.toBe(0);
      expect(answer.ms).toBeLessThan(31_000);
      expect(answer.text).not.toMatch(/stackTrace|errorType|errorMessage|\bat .*:\d+:\d+/);
      if (answer.status === 200) {
        expect(JSON.parse(answer.text)).toMatchObject({ playlistId, name: "Busy evening" });
      } else {
        expect(GATEWAY_ERRORS.has(answer.status), summary).toBe(true);
      }
    }

    const ok = byStatus.get(200) ?? 0;
    const stored = await send("GET", `/playlists/${playlistId}`);
    const { plays } = JSON.parse(stored.text);
    // Each 200 counted; a 5xx may or may not have counted (its work may have finished late).
    expect(plays).toBeGreaterThanOrEqual(ok);
    expect(plays).toBeLessThanOrEqual(PLAYS);
    console.log(`busy machine: ${summary}, ${plays} plays counted`);
  }, 120_000);
});
