/**
 * Refresh tokens of the local Auth0 tenant, as Auth0's rotation issues them to the single-page
 * app and to the native app: rotated at each exchange with the Action run again, a reuse
 * revoking the family, and their idle and absolute lifetimes.
 */
import { decodeJwt, jwtVerify } from "jose";
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
  logIn,
  NATIVE,
  NATIVE_CALLBACK,
  offlineLogin,
  ROLES,
  refresh,
  refused,
  runs,
  serveTenants,
  shortLivedIssuer,
  slow,
  verifier,
} from "./tenant.ts";

serveTenants();

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
    const idle = await offlineLogin("auth0|idle", "spa", shortLivedIssuer);
    await new Promise((resolve) => setTimeout(resolve, 3_200));
    const late = await refresh(idle.refresh_token as string, APP.clientId, shortLivedIssuer);
    expect(late.status()).toBe(400);
    expect((await late.json()).error).toBe("invalid_grant");

    // Used every 0.6 s, well inside 2 s idle: only the 3 s absolute lifetime ends it.
    let token = (await offlineLogin("auth0|busy", "spa", shortLivedIssuer)).refresh_token as string;
    let exchanges = 0;
    for (let tried = 0; tried < 12; tried++) {
      await new Promise((resolve) => setTimeout(resolve, 600));
      const response = await refresh(token, APP.clientId, shortLivedIssuer);
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
