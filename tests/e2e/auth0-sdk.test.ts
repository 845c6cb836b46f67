import { ManagementClient } from "auth0";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningStack, startStack } from "../../scripts/local/stack.ts";
import { call } from "../helpers/http.ts";
import { audience, issuer, machineTokenFor, tokenFor, uniqueUser } from "../helpers/tokens.ts";

/**
 * Auth0's own Node SDK (`auth0` on npm), its ManagementClient as an operator's back office uses
 * it, against `npm start` over HTTP. The one thing added is a fetch that sends the SDK's
 * `https://<domain>/api/v2/...` to the local API instead: no other shim.
 */
let stack: RunningStack;
const DOMAIN = "music-tenant.example";

beforeAll(async () => {
  stack = await startStack({ AUTH_ISSUER: issuer(), AUTH_AUDIENCE: audience() });
});
afterAll(async () => {
  await stack?.stop();
});

/** The SDK's requests, to the API under test: only the base URL changes. */
const toStack: typeof fetch = (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  const rewritten = `${stack.baseUrl}${url.pathname.replace(/^\/api\/v2/, "")}${url.search}`;
  return fetch(input instanceof Request ? new Request(rewritten, input) : rewritten, init);
};

async function management() {
  const token = await machineTokenFor(
    "back-office",
    "read:users update:users update:users_app_metadata",
  );
  return new ManagementClient({ domain: DOMAIN, token, fetch: toStack, maxRetries: 0 });
}

describe("Auth0's ManagementClient against the API", () => {
  it("reads a user who only has songs, updates their metadata and reads chosen fields", async () => {
    const sub = uniqueUser("google-oauth2");
    const start = new Date().toISOString();
    const created = await call(stack.baseUrl, "POST", "/songs", {
      token: await tokenFor(sub),
      body: { songName: "First", genre: "pop" },
    });
    expect(created.status).toBe(201);
    const client = await management();

    const user = await client.users.get(sub);
    expect(user).toMatchObject({ user_id: sub, user_metadata: {}, app_metadata: {} });
    // Dated from the song, the first time the API saw the user; never null.
    const createdAt = user.created_at ?? "";
    expect(createdAt >= start && createdAt <= new Date().toISOString()).toBe(true);
    expect(user.updated_at).toBe(createdAt);

    const updated = await client.users.update(sub, {
      user_metadata: { theme: "dark" },
      app_metadata: { plan: "pro" },
    });
    expect(updated).toMatchObject({
      user_id: sub,
      user_metadata: { theme: "dark" },
      app_metadata: { plan: "pro" },
      created_at: user.created_at,
    });
    expect((updated.updated_at ?? "") > createdAt).toBe(true);

    const chosen = await client.users.get(sub, {
      fields: "user_id,app_metadata",
      include_fields: true,
    });
    expect(chosen).toEqual({ user_id: sub, app_metadata: { plan: "pro" } });
    const rest = await client.users.get(sub, { fields: "user_metadata", include_fields: false });
    expect(Object.keys(rest).sort()).toEqual([
      "app_metadata",
      "created_at",
      "updated_at",
      "user_id",
    ]);
  });

  it("gets the SDK's own errors for a user the API never saw and for a rule broken", async () => {
    const client = await management();
    await expect(client.users.get(uniqueUser())).rejects.toMatchObject({ statusCode: 404 });
    const sub = uniqueUser();
    await call(stack.baseUrl, "PUT", "/genres/fav", {
      token: await tokenFor(sub),
      body: { genre: "jazz" },
    });
    await expect(
      client.users.update(sub, { app_metadata: { "bad.key": 1 } }),
    ).rejects.toMatchObject({ statusCode: 400 });
  });
});
