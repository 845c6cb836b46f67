import { createServer, type Server } from "node:http";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/local/ports.ts";
import { type RunningStack, startStack } from "../../scripts/local/stack.ts";
import { call } from "../helpers/http.ts";
import {
  audience,
  issuer,
  machineTokenFor,
  testSigningKey,
  tokenFor,
  uniqueUser,
} from "../helpers/tokens.ts";

/**
 * The attacks of a hostile user on the boundary between what a user may change and what only
 * the app may change, each over HTTP through `npm start` with the contract's defaults (a 30 s
 * play cooldown). The editor role needs one play here, so that it can be earned in a test.
 */
let stack: RunningStack;
let jwks: Server;
let jwksFetches = 0;
let jwksFailing = false;
const ROLES = "https://music.example.com/roles";

beforeAll(async () => {
  const key = await testSigningKey();
  const jwksPort = await freePort();
  // The issuer's key set, served or failing on demand, counting fetches.
  jwks = createServer((_request, response) => {
    jwksFetches++;
    if (jwksFailing) {
      response.writeHead(500, { "content-type": "text/plain" });
      response.end("internal error");
      return;
    }
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify({ keys: [key.publicJwk] }));
  });
  await new Promise<void>((resolve) => jwks.listen(jwksPort, "127.0.0.1", resolve));
  stack = await startStack({
    AUTH_ISSUER: issuer(),
    AUTH_AUDIENCE: audience(),
    AUTH_JWKS_URI: `http://127.0.0.1:${jwksPort}/jwks.json`,
    PLAYLIST_EDITOR_MIN_PLAYS: "1",
    PLAY_COOLDOWN_SECONDS: "30",
    // The init warm-up on: the key set is first fetched while a function initialises.
    INIT_WARM_UP: "true",
  });
});
afterAll(async () => {
  await stack?.stop();
  jwks?.close();
});

const api = (method: string, path: string, options: Parameters<typeof call>[3] = {}) =>
  call(stack.baseUrl, method, path, options);
const userPath = (sub: string) => `/users/${encodeURIComponent(sub)}`;
const hook = async () => machineTokenFor("post-login-action", "run:post_login");
const login = async (sub: string) =>
  api("POST", "/hooks/post-login", { token: await hook(), body: { user: { user_id: sub } } });

/** A user who earned playlist_editor: one playlist, one counted play, one login. */
async function editor() {
  const sub = uniqueUser();
  const token = await tokenFor(sub);
  const { body: playlist } = await api("POST", "/playlists", { token, body: { name: "Mine" } });
  expect((await api("POST", `/playlists/${playlist.playlistId}/plays`, { token })).status).toBe(
    200,
  );
  const promoted = await login(sub);
  expect(promoted.body.claims[ROLES]).toEqual(["playlist_editor"]);
  return { sub, token, playlistId: playlist.playlistId as string };
}

describe("when the issuer's key set fails", () => {
  it("answers 503 with Retry-After, not 401, and does not refetch on every request", async () => {
    // The first test of the stack: no function has fetched the key set yet.
    const token = await tokenFor(uniqueUser());
    jwksFailing = true;
    try {
      const before = jwksFetches;
      const first = await api("GET", "/genres/getFav", { token });
      expect(first.status).toBe(503);
      expect(first.body).toMatchObject({ statusCode: 503, errorCode: "temporarily_unavailable" });
      expect(Number(first.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      for (let i = 0; i < 5; i++) {
        expect((await api("GET", "/genres/getFav", { token })).status).toBe(503);
      }
      expect(jwksFetches - before).toBe(1);
    } finally {
      // The issuer recovers (whatever happened above, for the tests after this one).
      jwksFailing = false;
    }
    // After the cooldown the same token is served.
    await new Promise((resolve) => setTimeout(resolve, 10_500));
    expect((await api("GET", "/genres/getFav", { token })).status).toBe(200);
  }, 30_000);
});

describe("operator rights come only from what Auth0 gives operators", () => {
  it("gives a user token nothing for operator scopes it asked for", async () => {
    const victim = uniqueUser();
    await api("PUT", "/displayName", {
      token: await tokenFor(victim),
      body: { displayName: "Victim" },
    });
    const attacker = uniqueUser();
    const token = await tokenFor(attacker, {
      scope: "openid read:users update:users update:users_app_metadata delete:users run:post_login",
    });
    const ownRoles = await api("PATCH", userPath(attacker), {
      token,
      body: { app_metadata: { roles: ["playlist_editor"], plan: "premium" } },
    });
    expect(ownRoles.status).toBe(403);
    expect((await api("GET", userPath(victim), { token })).status).toBe(403);
    const edit = await api("PATCH", userPath(victim), {
      token,
      body: { user_metadata: { displayName: "pwned" } },
    });
    expect(edit.status).toBe(403);
    expect((await api("DELETE", userPath(victim), { token })).status).toBe(403);
    expect(
      (await api("POST", "/hooks/post-login", { token, body: { user: { user_id: attacker } } }))
        .status,
    ).toBe(403);
    const victimToken = await tokenFor(victim);
    expect((await api("GET", "/displayName", { token: victimToken })).body).toEqual({
      displayName: "Victim",
    });
    expect((await api("GET", userPath(attacker), { token })).body.app_metadata).toEqual({});
  });

  it("honours Auth0 RBAC permissions in a user token, and client-credentials scopes", async () => {
    const target = uniqueUser();
    await login(target);
    const admin = await tokenFor(uniqueUser(), { permissions: ["read:users"] });
    expect((await api("GET", userPath(target), { token: admin })).status).toBe(200);
    const machine = await machineTokenFor("ops", "read:users update:users_app_metadata");
    expect((await api("GET", userPath(target), { token: machine })).status).toBe(200);
    const plan = await api("PATCH", userPath(target), {
      token: machine,
      body: { app_metadata: { plan: "premium" } },
    });
    expect(plan.status).toBe(200);
    // Only a client-credentials token calls the hook, whatever a user token's permissions say.
    const userWithHookPermission = await tokenFor(uniqueUser(), {
      permissions: ["run:post_login"],
    });
    const refused = await api("POST", "/hooks/post-login", {
      token: userWithHookPermission,
      body: { user: { user_id: target } },
    });
    expect(refused.status).toBe(403);
  });

  it("answers 403 to a client-credentials token on every user route: a machine has no songs", async () => {
    const machine = await machineTokenFor("ops", "read:users update:users delete:users");
    const calls: [string, string, unknown?][] = [
      ["GET", "/songs"],
      ["POST", "/songs", { songName: "x", genre: "y" }],
      ["GET", "/playlists"],
      ["POST", "/playlists", { name: "x" }],
      ["GET", "/playlists/featured"],
      ["GET", "/playlists/getPlays"],
      ["GET", "/genres/getFav"],
      ["PUT", "/genres/fav", { genre: "jazz" }],
      ["GET", "/displayName"],
      ["PUT", "/displayName", { displayName: "bot" }],
    ];
    for (const [method, path, body] of calls) {
      const response = await api(method, path, { token: machine, body });
      expect(response.status, `${method} ${path}`).toBe(403);
      expect(response.body.statusCode).toBe(403);
    }
    // Nor is a machine anyone's "self": its own id is no profile of its own.
    const hookOnly = await hook();
    expect(
      (await api("GET", userPath("post-login-action@clients"), { token: hookOnly })).status,
    ).toBe(403);
  });
});

describe("the playlist_editor role cannot be farmed, frozen or kept against an operator", () => {
  it("counts one play of a burst and answers the rest 429 play_too_soon with Retry-After", async () => {
    const token = await tokenFor(uniqueUser());
    const { body: playlist } = await api("POST", "/playlists", { token, body: { name: "Farm" } });
    const burst = await Promise.all(
      Array.from({ length: 20 }, () =>
        api("POST", `/playlists/${playlist.playlistId}/plays`, { token }),
      ),
    );
    const statuses = burst.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 429)).toHaveLength(19);
    const refused = burst.find((r) => r.status === 429);
    expect(refused?.body.errorCode).toBe("play_too_soon");
    const retryAfter = Number(refused?.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(30);
    expect((await api("GET", "/playlists/getPlays", { token })).body).toEqual({ plays: 1 });
    expect((await api("GET", `/playlists/${playlist.playlistId}`, { token })).body.plays).toBe(1);
  });

  it("removes the role of a user whose user_metadata is exactly at the 32 kB limit", async () => {
    const { sub, token, playlistId } = await editor();
    // Fill user_metadata to exactly 32 kB of JSON, without a displayName.
    const filler = "x".repeat(32 * 1024 - '{"filler":""}'.length);
    const filled = await api("PATCH", userPath(sub), {
      token,
      body: { user_metadata: { displayName: null, filler } },
    });
    expect(filled.status).toBe(200);
    expect((await api("DELETE", `/playlists/${playlistId}`, { token })).status).toBe(204);
    const demoted = await login(sub);
    expect(demoted.status).toBe(200);
    expect(demoted.body.claims[ROLES]).toEqual([]);
    expect(demoted.body.user_metadata).toEqual({ filler });
    expect((await api("GET", "/displayName", { token })).body).toEqual({ displayName: "user" });
    const featured = await api("POST", "/playlists/featured", { token, body: { name: "x" } });
    expect(featured.status).toBe(403);
  });

  it("keeps a role an operator denied away: refused at once, removed and never granted again", async () => {
    const { sub, token } = await editor();
    const operator = await machineTokenFor("ops", "update:users_app_metadata");
    const denied = await api("PATCH", userPath(sub), {
      token: operator,
      body: { app_metadata: { denied_roles: ["playlist_editor"] } },
    });
    expect(denied.status).toBe(200);
    const featured = await api("POST", "/playlists/featured", { token, body: { name: "x" } });
    expect(featured.status).toBe(403);
    for (let i = 0; i < 2; i++) {
      const next = await login(sub);
      expect(next.body.claims[ROLES]).toEqual([]);
      expect(next.body.app_metadata.roles).toEqual([]);
    }
    const audit = stack
      .output()
      .split("\n")
      .filter((line) => line.includes('"audit":true'));
    const change = audit.find(
      (line) => line.includes("app_metadata changed") && line.includes(JSON.stringify(sub)),
    );
    expect(change).toContain('"actor":"ops@clients"');
    expect(change).toContain('"changed":"denied_roles"');
    // API Gateway's id of the request: the line joins the stage's access log line.
    expect(change).toMatch(/"requestId":"[^"]+"/);
    expect(
      audit.some((line) => line.includes('"removed":"playlist_editor"') && line.includes(sub)),
    ).toBe(true);
  });
});

describe("metrics", () => {
  it("writes CloudWatch EMF lines for a login, a counted play and a refused play", async () => {
    const sub = uniqueUser();
    const token = await tokenFor(sub);
    const { body: playlist } = await api("POST", "/playlists", { token, body: { name: "M" } });
    const path = `/playlists/${playlist.playlistId}/plays`;
    expect((await api("POST", path, { token })).status).toBe(200);
    expect((await api("POST", path, { token })).status).toBe(429);
    expect((await login(sub)).status).toBe(200);
    const metrics = stack
      .output()
      .split("\n")
      .filter((line) => line.includes('"_aws"'))
      .map((line) => JSON.parse(line.slice(line.indexOf("{"))));
    for (const name of ["PlaysCounted", "PlaysRefused", "Logins", "RolesGranted"]) {
      const found = metrics.find((m) => m[name] === 1);
      expect(found, name).toBeDefined();
      expect(found._aws.CloudWatchMetrics[0]).toMatchObject({
        Namespace: "MusicUserData",
        Metrics: [{ Name: name, Unit: "Count" }],
      });
    }
  });
});

describe("oversized requests", () => {
  it("answers headers over the server's limit (a 20 kB header) with 431 in the API's error shape", async () => {
    const response = await fetch(`${stack.baseUrl}/displayName`, {
      headers: { authorization: "Bearer x", "x-padding": "a".repeat(20_000) },
    });
    expect(response.status).toBe(431);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({
      statusCode: 431,
      error: "Request Header Fields Too Large",
      message: expect.stringContaining("headers are too large"),
      errorCode: "headers_too_large",
    });
    // The server goes on serving.
    expect((await api("GET", "/openapi.json")).status).toBe(200);
  });
});

describe("tokens and strings", () => {
  const signed = async (iat: number, exp: number) => {
    const key = await testSigningKey();
    return new SignJWT({})
      .setProtectedHeader({ alg: "RS256", kid: key.kid })
      .setIssuer(issuer())
      .setAudience(audience())
      .setSubject(uniqueUser())
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(key.privateKey);
  };

  it("refuses a token whose lifetime is over 30 days", async () => {
    const now = Math.floor(Date.now() / 1000);
    const response = await api("GET", "/displayName", {
      token: await signed(now, now + 31 * 24 * 3600),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toMatch(/^Bearer /);
    expect(response.body.message).toContain("30 days");
  });

  it("refuses a token issued in the future", async () => {
    const now = Math.floor(Date.now() / 1000);
    const response = await api("GET", "/displayName", {
      token: await signed(now + 3600, now + 7200),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toMatch(/^Bearer /);
  });

  it("refuses lone surrogates: 400 in a body, 401 in sub", async () => {
    const token = await tokenFor(uniqueUser());
    const body = await api("PUT", "/displayName", {
      token,
      rawBody: '{"displayName": "DJ \\ud800"}',
      headers: { "content-type": "application/json" },
    });
    expect(body.status).toBe(400);
    expect((await api("GET", "/displayName", { token })).body).toEqual({ displayName: "user" });
    const key = await api("PATCH", userPath("auth0|x"), {
      token,
      rawBody: '{"user_metadata": {"k\\udc00": 1}}',
    });
    expect(key.status).toBe(400);
    const loneSub = await tokenFor("auth0|\ud800evil");
    expect((await api("GET", "/displayName", { token: loneSub })).status).toBe(401);
  });

  it("treats routeKey as a route, never as a property of an object", async () => {
    const token = await tokenFor(uniqueUser());
    const response = await fetch(
      `${stack.lambdaUrl}/2015-03-31/functions/music-user-data-dev-songs/invocations`,
      {
        method: "POST",
        body: JSON.stringify({
          routeKey: "constructor",
          rawPath: "/",
          headers: { authorization: `Bearer ${token}` },
          requestContext: { requestId: "attack" },
        }),
      },
    );
    const answer = (await response.json()) as { statusCode: number; body: string };
    expect(answer.statusCode).toBe(404);
    expect(JSON.parse(answer.body)).toMatchObject({ statusCode: 404, errorCode: "no_route" });
  });
});
