import { createHash, randomBytes } from "node:crypto";
import type { Server } from "node:http";
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import { type APIRequestContext, request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSigningKey, type LocalClient } from "../../../../scripts/local/issuer.ts";
import {
  type LoginProtocol,
  type LoginUser,
  serveIssuer,
} from "../../../../scripts/local/oidc-issuer.ts";
import { freePort } from "../../../../scripts/local/ports.ts";

/**
 * The local Auth0 tenant (oidc-provider dressed as Auth0) over HTTP, without a browser: what
 * Auth0's SDKs and the Action send it, and what it must refuse. The whole login in a real browser,
 * with the real Action, is tests/e2e/web-app.test.ts.
 */
const AUDIENCE = "https://api.music.test";
const ROLES = "https://music.example.com/roles";
const APP = { clientId: "test-app", origins: ["http://127.0.0.1:1234"] };
const REDIRECT_URI = "http://127.0.0.1:1234/";
const NATIVE = { clientId: "test-native", callbacks: ["com.example.music://callback"] };
const NATIVE_CALLBACK = "com.example.music://callback";
const M2M: LocalClient = {
  clientId: "test-m2m",
  clientSecret: randomBytes(24).toString("base64url"),
  scope: "run:post_login",
};
let server: Server;
let issuer: string;
let http: APIRequestContext;
/** Who logged in, in order: what the login page handed to the post-login step. */
const loggedIn: LoginUser[] = [];
/** Whom the post-login step makes editors (the hook's decision, in the real stack). */
const editors = new Set<string>(["auth0|editor-1"]);
/** Each run of the post-login step: whom for, and Auth0's `event.transaction.protocol`. */
const runs: { userId: string; protocol: LoginProtocol }[] = [];
/** Whom the post-login step refuses (api.access.deny: their account is being deleted). */
const refused = new Set<string>();
/** Whose post-login step takes a while, as the real Action's call to the hook does. */
const slow = new Set<string>();
let shortLived: { server: Server; issuer: string };

beforeAll(async () => {
  const port = await freePort();
  issuer = `http://127.0.0.1:${port}/`;
  server = await serveIssuer(port, {
    issuer,
    key: await createSigningKey(),
    audience: AUDIENCE,
    clients: [M2M],
    login: {
      app: APP,
      nativeApp: NATIVE,
      customClaims: [ROLES],
      async postLogin(user, protocol) {
        if (protocol !== "oauth2-refresh-token") loggedIn.push(user);
        runs.push({ userId: user.user_id, protocol });
        if (slow.has(user.user_id)) await new Promise((resolve) => setTimeout(resolve, 200));
        if (refused.has(user.user_id))
          return {
            accessTokenClaims: {},
            idTokenClaims: {},
            denied: "This account is being deleted.",
          };
        const roles = editors.has(user.user_id) ? ["playlist_editor"] : [];
        return { accessTokenClaims: { [ROLES]: roles }, idTokenClaims: { [ROLES]: roles } };
      },
    },
  });
  // A tenant whose refresh tokens live 2 s unused and 3 s in all, to see both lifetimes end.
  const shortPort = await freePort();
  const shortIssuer = `http://127.0.0.1:${shortPort}/`;
  shortLived = {
    issuer: shortIssuer,
    server: await serveIssuer(shortPort, {
      issuer: shortIssuer,
      key: await createSigningKey(),
      audience: AUDIENCE,
      login: {
        app: APP,
        nativeApp: NATIVE,
        customClaims: [ROLES],
        postLogin: async () => ({ accessTokenClaims: {}, idTokenClaims: {} }),
      },
      refreshTokens: { idleSeconds: 2, absoluteSeconds: 3 },
    }),
  };
  http = await request.newContext({ maxRedirects: 0 });
});
afterAll(async () => {
  await http?.dispose();
  server?.close();
  shortLived?.server.close();
});

const keys = () => createRemoteJWKSet(new URL(`${issuer}.well-known/jwks.json`));

describe("client credentials, as Auth0's /oauth/token", () => {
  const ask = (body: Record<string, string>, json = true) =>
    http.post(`${issuer}oauth/token`, json ? { data: body } : { form: body });
  const grant = { grant_type: "client_credentials", client_id: M2M.clientId, audience: AUDIENCE };

  it("answers the Action's JSON request with the client's grant, shaped as Auth0's", async () => {
    const response = await ask({ ...grant, client_secret: M2M.clientSecret });
    expect(response.status()).toBe(200);
    const body = await response.json();
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 86_400, scope: M2M.scope });
    const { payload, protectedHeader } = await jwtVerify(body.access_token, keys(), {
      issuer,
      audience: AUDIENCE,
    });
    expect(protectedHeader).toMatchObject({ alg: "RS256", typ: "JWT" });
    expect(payload).toMatchObject({
      sub: `${M2M.clientId}@clients`,
      gty: "client-credentials",
      azp: M2M.clientId,
      scope: "run:post_login",
    });
    expect(payload).not.toHaveProperty("client_id");
  });

  it("takes a form body too", async () => {
    const response = await ask({ ...grant, client_secret: M2M.clientSecret }, false);
    expect(response.status()).toBe(200);
  });

  it("answers a body it cannot read with 400", async () => {
    const junk = await http.post(`${issuer}oauth/token`, {
      data: "{not json",
      headers: { "content-type": "application/json" },
    });
    expect(junk.status()).toBe(400);
    const huge = await ask({ ...grant, client_secret: "x".repeat(20_000) });
    expect(huge.status()).toBe(400);
  });

  it("refuses a wrong secret, an unknown API and a permission the client was not granted", async () => {
    const wrongSecret = await ask({ ...grant, client_secret: "guess" });
    expect(wrongSecret.status()).toBe(401);
    expect((await wrongSecret.json()).error).toBe("invalid_client");

    const elsewhere = await ask({
      ...grant,
      client_secret: M2M.clientSecret,
      audience: "https://another.api",
    });
    expect(elsewhere.status()).toBe(400);
    expect((await elsewhere.json()).error).toBe("invalid_target");

    const more = await ask({ ...grant, client_secret: M2M.clientSecret, scope: "delete:users" });
    expect(more.status()).toBe(400);
    expect((await more.json()).error).toBe("invalid_scope");
  });
});

describe("a login with Authorization Code and PKCE, as auth0-spa-js does it", () => {
  const verifier = () => randomBytes(32).toString("base64url");
  const challengeOf = (v: string) => createHash("sha256").update(v).digest("base64url");

  function authorizeUrl(
    challenge: string | undefined,
    overrides: Record<string, string> = {},
    at = issuer,
  ) {
    const url = new URL(`${at}authorize`);
    const params = {
      client_id: APP.clientId,
      response_type: "code",
      redirect_uri: REDIRECT_URI,
      scope: "openid profile email",
      audience: AUDIENCE,
      state: "state-1",
      nonce: "nonce-1",
      ...(challenge ? { code_challenge: challenge, code_challenge_method: "S256" } : {}),
      ...overrides,
    };
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    return url.href;
  }

  /** A browser of its own: its own cookies, so its own session at the issuer. */
  const browsers: APIRequestContext[] = [];
  async function newBrowser(): Promise<APIRequestContext> {
    const browser = await request.newContext({ maxRedirects: 0 });
    browsers.push(browser);
    return browser;
  }
  afterAll(() => Promise.all(browsers.map((browser) => browser.dispose())));

  /** Follows the login as a browser would, typing `userId`; answers the app's callback URL. */
  async function logIn(
    userId: string,
    challenge: string,
    browser?: APIRequestContext,
    overrides: Record<string, string> = {},
    at = issuer,
  ): Promise<URL> {
    const http = browser ?? (await newBrowser());
    const started = await http.get(authorizeUrl(challenge, overrides, at));
    expect(started.status()).toBe(303);
    const loginPage = new URL(started.headers().location as string, at).href;
    expect((await http.get(loginPage)).status()).toBe(200);
    const submitted = await http.post(loginPage, { form: { user_id: userId, name: "Ann" } });
    expect(submitted.status()).toBe(303);
    const resumed = await http.get(new URL(submitted.headers().location as string, at).href);
    expect(resumed.status()).toBe(303);
    return new URL(resumed.headers().location as string);
  }

  const exchange = (code: string, codeVerifier: string, headers: Record<string, string> = {}) =>
    http.post(`${issuer}oauth/token`, {
      form: {
        grant_type: "authorization_code",
        client_id: APP.clientId,
        code,
        redirect_uri: REDIRECT_URI,
        code_verifier: codeVerifier,
      },
      headers,
    });

  it("issues an ID token with the profile and the login's claims, and an access token for the API", async () => {
    const codeVerifier = verifier();
    const callback = await logIn("auth0|editor-1", challengeOf(codeVerifier));
    expect(`${callback.origin}/`).toBe(REDIRECT_URI);
    expect(callback.searchParams.get("state")).toBe("state-1");
    expect(loggedIn.at(-1)).toEqual({ user_id: "auth0|editor-1", name: "Ann" });

    const response = await exchange(callback.searchParams.get("code") as string, codeVerifier, {
      origin: APP.origins[0] as string,
    });
    expect(response.status()).toBe(200);
    expect(response.headers()["access-control-allow-origin"]).toBe(APP.origins[0]);
    const tokens = await response.json();
    const id = await jwtVerify(tokens.id_token, keys(), { issuer, audience: APP.clientId });
    expect(id.payload).toMatchObject({
      sub: "auth0|editor-1",
      name: "Ann",
      nonce: "nonce-1",
      [ROLES]: ["playlist_editor"],
    });
    const access = await jwtVerify(tokens.access_token, keys(), { issuer, audience: AUDIENCE });
    expect(decodeProtectedHeader(tokens.access_token).typ).toBe("JWT");
    // RBAC on, nothing assigned: a user's token grants no operator right.
    expect(access.payload).toMatchObject({
      sub: "auth0|editor-1",
      azp: APP.clientId,
      permissions: [],
      [ROLES]: ["playlist_editor"],
    });
    expect(access.payload.scope ?? "").not.toMatch(/users|post_login/);
  });

  it("grants a user no API permission asked for as a scope (RBAC on, none assigned)", async () => {
    const codeVerifier = verifier();
    const browser = await newBrowser();
    const started = await browser.get(
      authorizeUrl(challengeOf(codeVerifier), {
        scope: "openid profile read:users update:users_app_metadata delete:users",
      }),
    );
    const loginPage = new URL(started.headers().location as string, issuer).href;
    await browser.get(loginPage);
    const submitted = await browser.post(loginPage, { form: { user_id: "auth0|climber" } });
    const resumed = await browser.get(new URL(submitted.headers().location as string, issuer).href);
    const callback = new URL(resumed.headers().location as string);
    const response = await exchange(callback.searchParams.get("code") as string, codeVerifier);
    expect(response.status()).toBe(200);
    const tokens = await response.json();
    const access = await jwtVerify(tokens.access_token, keys(), { issuer, audience: AUDIENCE });
    expect(access.payload.permissions).toEqual([]);
    expect(String(access.payload.scope ?? "")).not.toMatch(/users/);
    expect(String(tokens.scope ?? "")).not.toMatch(/users/);
  });

  it("runs the post-login step on a silent login too (prompt=none), as Auth0 runs Actions", async () => {
    const browser = await newBrowser();
    const first = verifier();
    const code = (await logIn("auth0|promoted", challengeOf(first), browser)).searchParams.get(
      "code",
    ) as string;
    const before = await (await exchange(code, first)).json();
    expect(decodeJwt(before.access_token)[ROLES]).toEqual([]);

    editors.add("auth0|promoted");
    const renewal = verifier();
    const silent = await browser.get(authorizeUrl(challengeOf(renewal), { prompt: "none" }));
    expect(silent.status()).toBe(303);
    const callback = new URL(silent.headers().location as string);
    expect(loggedIn.at(-1)).toEqual({ user_id: "auth0|promoted", name: "Ann" });
    const after = await (
      await exchange(callback.searchParams.get("code") as string, renewal)
    ).json();
    expect(decodeJwt(after.access_token)[ROLES]).toEqual(["playlist_editor"]);
  });

  it("refuses a code without its verifier, a code used twice and another site's origin", async () => {
    const codeVerifier = verifier();
    const code = (await logIn("auth0|listener-1", challengeOf(codeVerifier))).searchParams.get(
      "code",
    ) as string;
    const wrong = await exchange(code, verifier());
    expect(wrong.status()).toBe(400);
    expect((await wrong.json()).error).toBe("invalid_grant");

    const next = verifier();
    const second = (await logIn("auth0|listener-1", challengeOf(next))).searchParams.get(
      "code",
    ) as string;
    const fromElsewhere = await exchange(second, next, { origin: "http://evil.example" });
    expect(fromElsewhere.status()).toBe(400);
    expect(fromElsewhere.headers()["access-control-allow-origin"]).toBeUndefined();
    expect((await exchange(second, next)).status()).toBe(200);
    const replayed = await exchange(second, next);
    expect((await replayed.json()).error).toBe("invalid_grant");
  });

  it("refuses an authorization request without PKCE or with a callback the app did not register", async () => {
    const noPkce = await http.get(authorizeUrl(undefined));
    expect(noPkce.status()).toBe(303);
    expect(new URL(noPkce.headers().location as string).searchParams.get("error")).toBe(
      "invalid_request",
    );
    const elsewhere = await http.get(
      authorizeUrl(challengeOf(verifier()), { redirect_uri: "https://evil.example/" }),
    );
    // Never redirected to an unregistered callback: an error page on the issuer.
    expect(elsewhere.status()).toBe(400);
    expect(elsewhere.headers().location).toBeUndefined();
  });

  it("logs out at /v2/logout and returns only to a registered URL", async () => {
    const logout = await newBrowser();
    await logIn("auth0|listener-2", challengeOf(verifier()), logout);
    const out = await logout.get(
      `${issuer}v2/logout?client_id=${APP.clientId}&returnTo=${encodeURIComponent(REDIRECT_URI)}`,
      { maxRedirects: 5 },
    );
    // The provider's confirmation page submits itself in a browser; here, submit it.
    const html = await out.text();
    const action = /action="([^"]+)"/.exec(html)?.[1] as string;
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1] as string;
    const done = await logout.post(new URL(action, issuer).href, {
      form: { xsrf, logout: "yes" },
      maxRedirects: 0,
    });
    expect(done.headers().location).toBe(REDIRECT_URI);
    // The session is over: a new authorization asks who you are again.
    const again = await logout.get(authorizeUrl(challengeOf(verifier())), { maxRedirects: 0 });
    expect(again.headers().location).toMatch(/^\/login\//);

    const open = await logout.get(
      `${issuer}v2/logout?client_id=${APP.clientId}&returnTo=${encodeURIComponent("https://evil.example/")}`,
      { maxRedirects: 5 },
    );
    expect(open.status()).toBe(400);
  });

  it("shows the login page again with the reason when the user id is unusable", async () => {
    const http = await newBrowser();
    const started = await http.get(authorizeUrl(challengeOf(verifier())));
    const loginPage = new URL(started.headers().location as string, issuer).href;
    const refused = await http.post(loginPage, { form: { user_id: "two words" } });
    expect(refused.status()).toBe(400);
    expect(await refused.text()).toContain("Type a user id without spaces");
  });

  /** The app's refresh-token exchange, as auth0-spa-js and Auth0.swift send it (JSON). */
  const refresh = (refreshToken: string, clientId = APP.clientId, at = issuer) =>
    http.post(`${at}oauth/token`, {
      data: { grant_type: "refresh_token", client_id: clientId, refresh_token: refreshToken },
    });

  /** A login asking for `offline_access`; answers the token response. */
  async function offlineLogin(
    userId: string,
    client: "spa" | "native" = "spa",
    at = issuer,
  ): Promise<{ access_token: string; refresh_token?: string; id_token: string }> {
    const codeVerifier = verifier();
    const native = client === "native";
    const overrides = {
      scope: "openid profile email offline_access",
      ...(native ? { client_id: NATIVE.clientId, redirect_uri: NATIVE_CALLBACK } : {}),
    };
    const callback = await logIn(userId, challengeOf(codeVerifier), undefined, overrides, at);
    const response = await http.post(`${at}oauth/token`, {
      data: {
        grant_type: "authorization_code",
        client_id: native ? NATIVE.clientId : APP.clientId,
        code: callback.searchParams.get("code"),
        redirect_uri: native ? NATIVE_CALLBACK : REDIRECT_URI,
        code_verifier: codeVerifier,
      },
    });
    expect(response.status()).toBe(200);
    return response.json();
  }

  describe("refresh tokens, as Auth0's rotation", () => {
    it("issues one for offline_access only", async () => {
      const codeVerifier = verifier();
      const callback = await logIn("auth0|online", challengeOf(codeVerifier));
      const online = await (
        await exchange(callback.searchParams.get("code") as string, codeVerifier)
      ).json();
      expect(online.refresh_token).toBeUndefined();
      const offline = await offlineLogin("auth0|offline");
      expect(offline.refresh_token).toEqual(expect.any(String));
    });

    it("rotates at each exchange and runs the Action with protocol oauth2-refresh-token, so a role granted or taken reaches the next token", async () => {
      const userId = "auth0|refreshed";
      const first = await offlineLogin(userId);
      expect(decodeJwt(first.access_token)[ROLES]).toEqual([]);

      editors.add(userId);
      const before = runs.length;
      const granted = await refresh(first.refresh_token as string);
      expect(granted.status()).toBe(200);
      const second = await granted.json();
      expect(runs.slice(before)).toEqual([{ userId, protocol: "oauth2-refresh-token" }]);
      expect(second.refresh_token).toEqual(expect.any(String));
      expect(second.refresh_token).not.toBe(first.refresh_token);
      const access = await jwtVerify(second.access_token, keys(), { issuer, audience: AUDIENCE });
      expect(access.payload).toMatchObject({ sub: userId, [ROLES]: ["playlist_editor"] });
      const id = await jwtVerify(second.id_token, keys(), { issuer, audience: APP.clientId });
      expect(id.payload[ROLES]).toEqual(["playlist_editor"]);

      editors.delete(userId);
      const third = await (await refresh(second.refresh_token)).json();
      expect(decodeJwt(third.access_token)[ROLES]).toEqual([]);
    });

    it("refuses a used refresh token, and its reuse revokes the whole family: the newest one too", async () => {
      const first = await offlineLogin("auth0|stolen");
      const second = await (await refresh(first.refresh_token as string)).json();
      const before = runs.length;
      const reused = await refresh(first.refresh_token as string);
      expect(reused.status()).toBe(400);
      expect((await reused.json()).error).toBe("invalid_grant");
      // No Action ran for the refused exchange.
      expect(runs.length).toBe(before);
      const newest = await refresh(second.refresh_token);
      expect(newest.status()).toBe(400);
      expect((await newest.json()).error).toBe("invalid_grant");
    });

    it("lets one of five parallel exchanges of a token through; the others are reuse, revoking the family", async () => {
      const userId = "auth0|raced";
      const first = await offlineLogin(userId);
      slow.add(userId);
      const answers = await Promise.all(
        Array.from({ length: 5 }, () => refresh(first.refresh_token as string)),
      );
      slow.delete(userId);
      const won = answers.filter((answer) => answer.status() === 200);
      expect(won).toHaveLength(1);
      for (const lost of answers.filter((answer) => answer.status() !== 200)) {
        expect(lost.status()).toBe(400);
        expect((await lost.json()).error).toBe("invalid_grant");
      }
      // One chain at most, and not even that: as Auth0, the reuse revoked the winner's token too.
      const next = await refresh((await won[0]?.json())?.refresh_token);
      expect(next.status()).toBe(400);
      expect((await next.json()).error).toBe("invalid_grant");
    });

    it("answers 403 access_denied when the Action denies a refresh, leaving the token usable", async () => {
      const userId = "auth0|leaving-soon";
      const first = await offlineLogin(userId);
      refused.add(userId);
      const denied = await refresh(first.refresh_token as string);
      expect(denied.status()).toBe(403);
      expect(await denied.json()).toMatchObject({
        error: "access_denied",
        error_description: "This account is being deleted.",
      });
      refused.delete(userId);
      expect((await refresh(first.refresh_token as string)).status()).toBe(200);
    });

    it("ends a family unused for the idle lifetime, and one used all along at the absolute lifetime", async () => {
      const idle = await offlineLogin("auth0|idle", "spa", shortLived.issuer);
      await new Promise((resolve) => setTimeout(resolve, 3_200));
      const late = await refresh(idle.refresh_token as string, APP.clientId, shortLived.issuer);
      expect(late.status()).toBe(400);
      expect((await late.json()).error).toBe("invalid_grant");

      // Used every 0.6 s, well inside 2 s idle: only the 3 s absolute lifetime ends it.
      let token = (await offlineLogin("auth0|busy", "spa", shortLived.issuer))
        .refresh_token as string;
      let exchanges = 0;
      for (let tried = 0; tried < 12; tried++) {
        await new Promise((resolve) => setTimeout(resolve, 600));
        const response = await refresh(token, APP.clientId, shortLived.issuer);
        if (response.status() !== 200) break;
        exchanges++;
        token = (await response.json()).refresh_token;
      }
      expect(exchanges).toBeGreaterThan(1);
      expect(exchanges).toBeLessThan(12);
    });
  });

  describe("the native app (Auth0's Native application: public, PKCE, custom scheme)", () => {
    it("logs in with code + PKCE to com.example.music://callback, without a secret", async () => {
      const tokens = await offlineLogin("auth0|phone", "native");
      const access = await jwtVerify(tokens.access_token, keys(), { issuer, audience: AUDIENCE });
      expect(access.payload).toMatchObject({ sub: "auth0|phone", azp: NATIVE.clientId });
      expect(tokens.refresh_token).toEqual(expect.any(String));
    });

    it("refuses an authorization without PKCE, and a callback it did not register", async () => {
      const base = { client_id: NATIVE.clientId, redirect_uri: NATIVE_CALLBACK };
      const noPkce = await http.get(authorizeUrl(undefined, base));
      expect(noPkce.status()).toBe(303);
      const location = new URL(noPkce.headers().location as string);
      expect(location.protocol).toBe("com.example.music:");
      expect(location.searchParams.get("error")).toBe("invalid_request");
      const other = await http.get(
        authorizeUrl(challengeOf(verifier()), { ...base, redirect_uri: "com.evil.app://callback" }),
      );
      expect(other.status()).toBe(400);
      expect(other.headers().location).toBeUndefined();
    });

    it("refreshes with rotation; a reused token revokes the family; revocation and logout end it", async () => {
      const first = await offlineLogin("auth0|phone-2", "native");
      const rotated = await refresh(first.refresh_token as string, NATIVE.clientId);
      expect(rotated.status()).toBe(200);
      const second = await rotated.json();
      expect(second.refresh_token).not.toBe(first.refresh_token);
      // The old one is spent...
      expect((await refresh(first.refresh_token as string, NATIVE.clientId)).status()).toBe(400);
      // ...and presenting it revoked the new one too.
      expect((await refresh(second.refresh_token, NATIVE.clientId)).status()).toBe(400);

      // Logout, as Auth0.swift's credentialsManager.revoke() and clearSession() do it.
      const again = await offlineLogin("auth0|phone-2", "native");
      const revoked = await http.post(`${issuer}oauth/revoke`, {
        data: { client_id: NATIVE.clientId, token: again.refresh_token },
      });
      expect(revoked.status()).toBe(200);
      const after = await refresh(again.refresh_token as string, NATIVE.clientId);
      expect(after.status()).toBe(400);
      expect((await after.json()).error).toBe("invalid_grant");
      const loggedOut = await http.get(
        `${issuer}v2/logout?client_id=${NATIVE.clientId}&returnTo=${encodeURIComponent(NATIVE_CALLBACK)}`,
        { maxRedirects: 5 },
      );
      expect(loggedOut.status()).toBe(200);
    });
  });
});

describe("keys", () => {
  it("serves the signing key's public half only", async () => {
    const { keys: served } = await (await http.get(`${issuer}.well-known/jwks.json`)).json();
    expect(served).toHaveLength(1);
    expect(served[0]).toMatchObject({ kty: "RSA", alg: "RS256", use: "sig" });
    for (const part of ["d", "p", "q", "dp", "dq", "qi"])
      expect(served[0]).not.toHaveProperty(part);
  });
});
