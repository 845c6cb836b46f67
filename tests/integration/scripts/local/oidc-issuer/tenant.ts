/**
 * The local Auth0 tenant (oidc-provider dressed as Auth0) of the tests beside this file, served
 * over HTTP and driven without a browser: what Auth0's SDKs and the Action send it. Its
 * post-login step is played by the sets below; the whole login in a real browser, with the real
 * Action, is tests/e2e/web-app.test.ts.
 */
import { createHash, randomBytes } from "node:crypto";
import type { Server } from "node:http";
import { createRemoteJWKSet } from "jose";
import { type APIRequestContext, request } from "playwright-core";
import { afterAll, beforeAll, expect } from "vitest";
import { createSigningKey, type LocalClient } from "../../../../../scripts/local/issuer.ts";
import type { LoginProtocol, LoginUser } from "../../../../../scripts/local/oidc-issuer/options.ts";
import { serveIssuer } from "../../../../../scripts/local/oidc-issuer/serve.ts";
import { freePort } from "../../../../../scripts/local/ports.ts";

export const AUDIENCE = "https://api.music.test";
export const ROLES = "https://music.example.com/roles";
export const APP = { clientId: "test-app", origins: ["http://127.0.0.1:1234"] };
export const REDIRECT_URI = "http://127.0.0.1:1234/";
export const NATIVE = { clientId: "test-native", callbacks: ["com.example.music://callback"] };
export const NATIVE_CALLBACK = "com.example.music://callback";
export const M2M: LocalClient = {
  clientId: "test-m2m",
  clientSecret: randomBytes(24).toString("base64url"),
  scope: "run:post_login",
};
/** Who logged in, in order: what the login page handed to the post-login step. */
export const loggedIn: LoginUser[] = [];
/** Whom the post-login step makes editors (the hook's decision, in the real stack). */
export const editors = new Set<string>(["auth0|editor-1"]);
/** Each run of the post-login step: whom for, and Auth0's `event.transaction.protocol`. */
export const runs: { userId: string; protocol: LoginProtocol }[] = [];
/** Whom the post-login step refuses (api.access.deny: their account is being deleted). */
export const refused = new Set<string>();
/** Whose post-login step takes a while, as the real Action's call to the hook does. */
export const slow = new Set<string>();

/** The tenant's URL, and a client of it without cookies; set by serveTenants' beforeAll. */
export let issuer: string;
export let http: APIRequestContext;
/** A tenant whose refresh tokens live 2 s unused and 3 s in all, to see both lifetimes end. */
export let shortLivedIssuer: string;

/** A browser of its own: its own cookies, so its own session at the issuer. */
const browsers: APIRequestContext[] = [];

/** Serves the tenant and the short-lived one for the test file, and closes them after it. */
export function serveTenants(): void {
  const servers: Server[] = [];
  beforeAll(async () => {
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}/`;
    servers.push(
      await serveIssuer(port, {
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
      }),
    );
    const shortPort = await freePort();
    shortLivedIssuer = `http://127.0.0.1:${shortPort}/`;
    servers.push(
      await serveIssuer(shortPort, {
        issuer: shortLivedIssuer,
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
    );
    http = await request.newContext({ maxRedirects: 0 });
  });
  afterAll(async () => {
    await Promise.all(browsers.map((browser) => browser.dispose()));
    await http?.dispose();
    for (const server of servers) server.close();
  });
}

export const keys = () => createRemoteJWKSet(new URL(`${issuer}.well-known/jwks.json`));

export const verifier = () => randomBytes(32).toString("base64url");
export const challengeOf = (v: string) => createHash("sha256").update(v).digest("base64url");

export function authorizeUrl(
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

export async function newBrowser(): Promise<APIRequestContext> {
  const browser = await request.newContext({ maxRedirects: 0 });
  browsers.push(browser);
  return browser;
}

/** Follows the login as a browser would, typing `userId`; answers the app's callback URL. */
export async function logIn(
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

export const exchange = (
  code: string,
  codeVerifier: string,
  headers: Record<string, string> = {},
) =>
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

/** The app's refresh-token exchange, as auth0-spa-js and Auth0.swift send it (JSON). */
export const refresh = (refreshToken: string, clientId = APP.clientId, at = issuer) =>
  http.post(`${at}oauth/token`, {
    data: { grant_type: "refresh_token", client_id: clientId, refresh_token: refreshToken },
  });

/** A login asking for `offline_access`; answers the token response. */
export async function offlineLogin(
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
