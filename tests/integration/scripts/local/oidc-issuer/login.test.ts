/**
 * A login at the local Auth0 tenant with Authorization Code and PKCE, as auth0-spa-js does it:
 * the tokens it buys, the post-login step's claims in them, and what it refuses.
 */
import { decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import {
  APP,
  AUDIENCE,
  authorizeUrl,
  challengeOf,
  editors,
  exchange,
  http,
  issuer,
  keys,
  loggedIn,
  logIn,
  newBrowser,
  REDIRECT_URI,
  ROLES,
  serveTenants,
  verifier,
} from "./tenant.ts";

serveTenants();

describe("a login with Authorization Code and PKCE, as auth0-spa-js does it", () => {
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
});

describe("what a login with Authorization Code and PKCE refuses, and the logout", () => {
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
});
