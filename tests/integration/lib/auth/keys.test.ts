import { createServer, type Server } from "node:http";
import { errors, jwtVerify } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { IssuerKeys, KeySetUnavailable } from "../../../../lib/auth/keys.ts";
import { createSigningKey, signAccessToken } from "../../../../scripts/local/issuer.ts";
import { freePort } from "../../../../scripts/local/ports.ts";

/**
 * The issuer's key set as the functions fetch it (node:http, not fetch), against a real HTTP
 * server: rotation, the unknown-kid cooldown, failures and junk.
 */
type Answer = { status: number; body: string };
let answer: Answer;
let fetches = 0;
let server: Server;
let uri: string;

beforeAll(async () => {
  const port = await freePort();
  server = createServer((_request, response) => {
    fetches++;
    response.writeHead(answer.status, { "content-type": "application/json" });
    response.end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  uri = `http://127.0.0.1:${port}/.well-known/jwks.json`;
});
afterAll(() => server?.close());
afterEach(() => vi.useRealTimers());

const options = { issuer: "https://issuer.test/", audience: "api", sub: "auth0|keys" };
const serve = (...keys: object[]) => {
  answer = { status: 200, body: JSON.stringify({ keys }) };
};

describe("IssuerKeys", () => {
  it("verifies with the fetched keys, and fetches once for many tokens", async () => {
    const key = await createSigningKey();
    serve(key.publicJwk);
    const keys = new IssuerKeys(uri);
    const before = fetches;
    for (let i = 0; i < 5; i++) {
      const { payload } = await jwtVerify(await signAccessToken(key, options), keys.lookup);
      expect(payload.sub).toBe("auth0|keys");
    }
    expect(fetches - before).toBe(1);
  });

  it("picks up a rotated key, but refetches for an unknown kid at most every 30 s", async () => {
    const [first, rotated] = await Promise.all([createSigningKey(), createSigningKey()]);
    serve(first.publicJwk);
    const keys = new IssuerKeys(uri);
    await jwtVerify(await signAccessToken(first, options), keys.lookup);
    serve(first.publicJwk, rotated.publicJwk);
    const token = await signAccessToken(rotated, options);
    // Right after a fetch: a forged or new kid does not make it fetch again.
    const before = fetches;
    await expect(jwtVerify(token, keys.lookup)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(fetches).toBe(before);
    vi.useFakeTimers({ now: Date.now() + 31_000, toFake: ["Date"] });
    await expect(jwtVerify(token, keys.lookup)).resolves.toBeTruthy();
    expect(fetches).toBe(before + 1);
  });

  it.each<[string, Answer]>([
    ["a 500", { status: 500, body: "internal error" }],
    ["junk", { status: 200, body: "<html>" }],
    ["no keys", { status: 200, body: "{}" }],
    ["a key set too large", { status: 200, body: JSON.stringify({ keys: ["x".repeat(600_000)] }) }],
  ])("treats %s as the issuer's trouble: unavailable, and no refetch for 10 s", async (_, bad) => {
    const key = await createSigningKey();
    answer = bad;
    const keys = new IssuerKeys(uri);
    const token = await signAccessToken(key, options);
    const before = fetches;
    await expect(jwtVerify(token, keys.lookup)).rejects.toBeInstanceOf(KeySetUnavailable);
    await expect(jwtVerify(token, keys.lookup)).rejects.toBeInstanceOf(KeySetUnavailable);
    expect(fetches - before).toBe(1);
    expect(keys.retryAfterSeconds()).toBeGreaterThanOrEqual(9);
    // The issuer recovers; after the cooldown the same token verifies.
    serve(key.publicJwk);
    vi.useFakeTimers({ now: Date.now() + 10_500, toFake: ["Date"] });
    await expect(jwtVerify(token, keys.lookup)).resolves.toBeTruthy();
  });

  it("keeps verifying with the last keys while the issuer is down", async () => {
    const key = await createSigningKey();
    serve(key.publicJwk);
    const keys = new IssuerKeys(uri);
    const token = await signAccessToken(key, options);
    await jwtVerify(token, keys.lookup);
    answer = { status: 503, body: "down" };
    // Ten minutes on, the keys are due for a refresh, which fails: the old ones still verify.
    vi.useFakeTimers({ now: Date.now() + 601_000, toFake: ["Date"] });
    await expect(jwtVerify(token, keys.lookup)).resolves.toBeTruthy();
  });
});
