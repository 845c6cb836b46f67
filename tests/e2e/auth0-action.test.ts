import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PostLoginEvent, runPostLoginAction } from "../../scripts/local/auth0-runtime.ts";
import type { LocalClient } from "../../scripts/local/issuer.ts";
import { freePort } from "../../scripts/local/ports.ts";
import {
  LOCAL_TENANT,
  type RunningStack,
  stackLogin,
  stackToken,
  startStack,
} from "../../scripts/local/stack.ts";
import { call } from "../helpers/http.ts";
import { uniqueUser } from "../helpers/tokens.ts";

/**
 * The Auth0 Action (auth0/post-login-action.js) run as Auth0 would run it, against `npm start`
 * with its local issuer, whose /oauth/token plays Auth0's client-credentials endpoint.
 */
const ROLES = "https://music.example.com/roles";
const AUDIENCE = "https://api.music.local";
let stack: RunningStack;
let client: LocalClient;
let secrets: Record<string, string>;

beforeAll(async () => {
  stack = await startStack(LOCAL_TENANT);
  client = JSON.parse(
    readFileSync(join(stack.dataDir, "issuer", "post-login-client.json"), "utf8"),
  ) as LocalClient;
  secrets = {
    HOOK_URL: `${stack.baseUrl}/hooks/post-login`,
    TOKEN_URL: `http://127.0.0.1:${stack.issuerPort}/oauth/token`,
    CLIENT_ID: client.clientId,
    CLIENT_SECRET: client.clientSecret,
    AUDIENCE,
  };
});
afterAll(async () => {
  await stack?.stop();
});

const loginEvent = (userId: string, overrides: Record<string, string> = {}): PostLoginEvent => ({
  user: { user_id: userId, email: "listener@example.com", name: "Listener" },
  secrets: { ...secrets, ...overrides },
});

const userToken = (sub: string) => stackToken(stack, sub);

/** Counts the Action's outgoing requests by URL. */
async function fetchesDuring(work: () => Promise<unknown>): Promise<string[]> {
  const original = globalThis.fetch;
  const urls: string[] = [];
  globalThis.fetch = (input, init) => {
    urls.push(String(input));
    return original(input, init);
  };
  try {
    await work();
  } finally {
    globalThis.fetch = original;
  }
  return urls;
}

describe("the post-login Action", () => {
  it("copies the hook's roles claim into the access and ID tokens on a first login", async () => {
    const run = await runPostLoginAction(loginEvent(uniqueUser("google-oauth2")));
    expect(run.accessTokenClaims).toEqual({ [ROLES]: [] });
    expect(run.idTokenClaims).toEqual({ [ROLES]: [] });
    // Nothing to mirror: no write to the Auth0 user.
    expect(run.appMetadata).toEqual({});
  });

  it("gives an editor's tokens playlist_editor after 100 plays", async () => {
    const sub = uniqueUser("google-oauth2");
    const token = await userToken(sub);
    const { body: playlist } = await call(stack.baseUrl, "POST", "/playlists", {
      token,
      body: { name: "Top" },
    });
    for (let i = 0; i < 4; i++) {
      await Promise.all(
        Array.from({ length: 25 }, () =>
          call(stack.baseUrl, "POST", `/playlists/${playlist.playlistId}/plays`, { token }),
        ),
      );
    }
    const run = await runPostLoginAction(loginEvent(sub));
    expect(run.accessTokenClaims).toEqual({ [ROLES]: ["playlist_editor"] });
    // Auth0's copy of the roles follows the API's.
    expect(run.appMetadata).toEqual({ roles: ["playlist_editor"] });
    const again = await runPostLoginAction({
      ...loginEvent(sub),
      user: { ...loginEvent(sub).user, app_metadata: { roles: ["playlist_editor"] } },
    });
    expect(again.appMetadata).toEqual({});
  });

  it("mirrors a role the API no longer grants out of Auth0's app_metadata", async () => {
    const event = loginEvent(uniqueUser());
    const run = await runPostLoginAction({
      ...event,
      user: { ...event.user, app_metadata: { plan: "free", roles: ["playlist_editor"] } },
    });
    expect(run.accessTokenClaims).toEqual({ [ROLES]: [] });
    expect(run.appMetadata).toEqual({ roles: [] });
  });

  it("fetches the M2M token once and reuses it from api.cache", async () => {
    const cache = new Map();
    const first = await fetchesDuring(() => runPostLoginAction(loginEvent(uniqueUser()), cache));
    const second = await fetchesDuring(() => runPostLoginAction(loginEvent(uniqueUser()), cache));
    expect(first).toEqual([secrets.TOKEN_URL, secrets.HOOK_URL]);
    expect(second).toEqual([secrets.HOOK_URL]);
  });

  it("keeps its cached M2M token when the hook answers 503, and drops it on 401", async () => {
    let status = 503;
    const hook = createServer((_request, response) => {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(JSON.stringify({ statusCode: status, errorCode: "temporarily_unavailable" }));
    });
    const port = await freePort();
    await new Promise<void>((resolve) => hook.listen(port, "127.0.0.1", resolve));
    try {
      const cache = new Map();
      const event = loginEvent(uniqueUser(), { HOOK_URL: `http://127.0.0.1:${port}/` });
      const unavailable = await runPostLoginAction(event, cache);
      expect(unavailable.accessTokenClaims).toEqual({});
      expect(cache.size).toBe(1);
      // The next login during the outage reuses it: no new token is fetched (the hook is tried
      // twice: a 503 once more).
      expect(await fetchesDuring(() => runPostLoginAction(event, cache))).toEqual([
        `http://127.0.0.1:${port}/`,
        `http://127.0.0.1:${port}/`,
      ]);
      status = 401;
      await runPostLoginAction(event, cache);
      expect(cache.size).toBe(0);
    } finally {
      hook.close();
    }
  });

  it("copies only the roles claim the API defines, whatever else the hook answers", async () => {
    const hook = createServer((request, response) => {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(
        JSON.stringify(
          request.url === "/oauth/token"
            ? { access_token: "not-checked-here", expires_in: 3600 }
            : {
                user_metadata: {},
                app_metadata: { roles: ["playlist_editor"] },
                claims: {
                  "https://music.example.com/roles": ["playlist_editor"],
                  sub: "auth0|someone-else",
                  permissions: ["delete:users"],
                  gty: "client-credentials",
                  "https://music.example.com/plan": "premium",
                },
              },
        ),
      );
    });
    const port = await freePort();
    await new Promise<void>((resolve) => hook.listen(port, "127.0.0.1", resolve));
    try {
      const run = await runPostLoginAction(
        loginEvent(uniqueUser(), {
          HOOK_URL: `http://127.0.0.1:${port}/hooks/post-login`,
          TOKEN_URL: `http://127.0.0.1:${port}/oauth/token`,
        }),
      );
      const only = { "https://music.example.com/roles": ["playlist_editor"] };
      expect(run.accessTokenClaims).toEqual(only);
      expect(run.idTokenClaims).toEqual(only);
    } finally {
      hook.close();
    }
  });

  it("denies the login of a user whose account deletion is under way, and only then", async () => {
    let errorCode = "account_being_deleted";
    const hook = createServer((request, response) => {
      const token = request.url === "/oauth/token";
      response.writeHead(token ? 200 : 409, { "content-type": "application/json" });
      response.end(
        JSON.stringify(
          token
            ? { access_token: "not-checked-here", expires_in: 3600 }
            : { statusCode: 409, error: "Conflict", message: "…", errorCode },
        ),
      );
    });
    const port = await freePort();
    await new Promise<void>((resolve) => hook.listen(port, "127.0.0.1", resolve));
    try {
      const event = loginEvent(uniqueUser(), {
        HOOK_URL: `http://127.0.0.1:${port}/hooks/post-login`,
        TOKEN_URL: `http://127.0.0.1:${port}/oauth/token`,
      });
      const refused = await runPostLoginAction(event);
      expect(refused.denied).toBe("This account is being deleted.");
      expect(refused.accessTokenClaims).toEqual({});
      // Any other conflict fails open, as every other failure of the hook.
      errorCode = "write_conflict";
      expect((await runPostLoginAction(event)).denied).toBeUndefined();
    } finally {
      hook.close();
    }
  });

  it("retries a 429 or a 5xx once within its time, then fails open", async () => {
    // A gateway in front of the real hook that refuses the first `failures` requests.
    let failures = 1;
    let status = 503;
    let hookCalls = 0;
    const gateway = createServer(async (request, response) => {
      hookCalls += 1;
      if (failures > 0) {
        failures -= 1;
        response.writeHead(status, { "content-type": "application/json", "retry-after": "1" });
        response.end(JSON.stringify({ statusCode: status, errorCode: "temporarily_unavailable" }));
        return;
      }
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const forwarded = await fetch(secrets.HOOK_URL as string, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: request.headers.authorization ?? "",
        },
        body: Buffer.concat(chunks),
      });
      response.writeHead(forwarded.status, { "content-type": "application/json" });
      response.end(await forwarded.text());
    });
    const port = await freePort();
    await new Promise<void>((resolve) => gateway.listen(port, "127.0.0.1", resolve));
    try {
      const event = loginEvent(uniqueUser(), { HOOK_URL: `http://127.0.0.1:${port}/` });
      const started = Date.now();
      const recovered = await runPostLoginAction(event);
      expect(recovered.accessTokenClaims).toEqual({ [ROLES]: [] });
      expect(hookCalls).toBe(2);
      // Retry-After (1 s) was honoured, within the Action's budget.
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);

      status = 429;
      failures = 2;
      hookCalls = 0;
      const refused = await runPostLoginAction(event);
      // Twice refused: the login goes on without claims (fail open), after exactly one retry.
      expect(hookCalls).toBe(2);
      expect(refused.denied).toBeUndefined();
      expect(refused.accessTokenClaims).toEqual({});
    } finally {
      gateway.close();
    }
  });

  it("does not block the login when the hook is down", async () => {
    const closedPort = await freePort();
    const run = await runPostLoginAction(
      loginEvent(uniqueUser(), { HOOK_URL: `http://127.0.0.1:${closedPort}/hooks/post-login` }),
    );
    expect(run.accessTokenClaims).toEqual({});
  });

  it("gives up on a hook that hangs, well inside Auth0's 20 s limit", async () => {
    const hanging = createServer(() => undefined);
    const port = await freePort();
    await new Promise<void>((resolve) => hanging.listen(port, "127.0.0.1", resolve));
    try {
      const started = Date.now();
      const run = await runPostLoginAction(
        loginEvent(uniqueUser(), { HOOK_URL: `http://127.0.0.1:${port}/` }),
      );
      expect(run.accessTokenClaims).toEqual({});
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      hanging.closeAllConnections();
      hanging.close();
    }
  });

  it("sets no claims when its client secret is wrong, and still lets the login through", async () => {
    const run = await runPostLoginAction(loginEvent(uniqueUser(), { CLIENT_SECRET: "wrong" }));
    expect(run.accessTokenClaims).toEqual({});
  });
});

describe("moving in from Auth0 at a first login", () => {
  const auth0User = (userId: string) => ({
    user_id: userId,
    email: "old@example.com",
    name: "Old Timer",
    user_metadata: {
      displayName: "Old Timer",
      theme: "dark",
      "bad.key": 1,
      avatar: { url: "https://example.com/a.png" },
    },
    app_metadata: { plan: "premium", denied_roles: ["playlist_editor"], roles: ["admin"] },
  });

  it("moves a new user's metadata in once, names the key it left out, and trims what moved", async () => {
    const userId = uniqueUser("auth0");
    const run = await runPostLoginAction({
      user: auth0User(userId),
      secrets: { ...secrets, TRIM_AUTH0_METADATA: "true" },
    });
    // The moved keys leave the Auth0 user; the one the store refused stays there.
    expect(run.userMetadata).toEqual({ displayName: null, theme: null, avatar: null });
    const token = await userToken(userId);
    const stored = await call(stack.baseUrl, "GET", `/users/${encodeURIComponent(userId)}`, {
      token,
    });
    expect(stored.body.user_metadata).toEqual({
      displayName: "Old Timer",
      theme: "dark",
      avatar: { url: "https://example.com/a.png" },
    });
    // Of app_metadata only what an operator decided moves: roles are earned here.
    expect(stored.body.app_metadata).toEqual({
      plan: "premium",
      denied_roles: ["playlist_editor"],
    });

    // Once: a later login's metadata is never read again, and nothing is trimmed.
    const later = await runPostLoginAction({
      user: { ...auth0User(userId), user_metadata: { theme: "light", extra: true } },
      secrets: { ...secrets, TRIM_AUTH0_METADATA: "true" },
    });
    expect(later.userMetadata).toEqual({});
    const again = await call(stack.baseUrl, "GET", `/users/${encodeURIComponent(userId)}`, {
      token,
    });
    expect(again.body.user_metadata.theme).toBe("dark");
    expect(again.body.user_metadata.extra).toBeUndefined();
  });

  it("leaves Auth0's copy alone unless TRIM_AUTH0_METADATA is true", async () => {
    const run = await runPostLoginAction({ user: auth0User(uniqueUser("auth0")), secrets });
    expect(run.userMetadata).toEqual({});
  });
});

describe("npm run login", () => {
  it("runs the Action against the local stack and prints a token carrying the roles claim", async () => {
    const token = await stackLogin(stack, "google-oauth2|login-test");
    const claims = decodeJwt(token);
    expect(claims.sub).toBe("google-oauth2|login-test");
    expect(claims[ROLES]).toEqual([]);
    const read = await call(stack.baseUrl, "GET", "/displayName", { token });
    expect(read.body).toEqual({ displayName: "user" });
  });
});
