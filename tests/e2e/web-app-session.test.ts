import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { decodeJwt } from "jose";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { loadOrCreateSigningKey, signAccessToken } from "../../scripts/local/issuer.ts";
import { type RunningStack, stackToken } from "../../scripts/local/stack.ts";
import { phone, screenshot } from "../helpers/browser.ts";
import { call } from "../helpers/http.ts";
import {
  accessToken,
  browser,
  EDITOR_PLAYS,
  go,
  logIn,
  logOut,
  ROLES,
  serveWebApp,
  stack,
  unique,
} from "../helpers/web-app.ts";

/**
 * The sample app's session and the library on the device, in a real browser (Debian's Chromium)
 * at a phone's size under `npm start`: changes made offline on two devices and merged once back,
 * a session that ended offline, and renewals with rotating refresh tokens while third-party
 * cookies are blocked. The seed's story is tests/e2e/web-app.test.ts.
 */
serveWebApp({ withCooldownStack: false });

/** Waits until the service worker controls the page: from then on the app opens offline. */
async function appKeptOffline(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    type Worker = { serviceWorker: { controller: unknown } };
    return (globalThis as unknown as { navigator: Worker }).navigator.serviceWorker.controller;
  });
}

/** The header's sync state: "Offline: 3 changes waiting", "Synced"… */
const syncState = (page: Page, text: string | RegExp) =>
  page.getByRole("banner").getByRole("status").getByText(text).waitFor();

async function addSong(page: Page, name: string): Promise<void> {
  await page.getByLabel("Song name", { exact: true }).fill(name);
  await page.getByLabel("Song genre", { exact: true }).fill("road");
  await page.getByRole("button", { name: "Add song" }).click();
  await page.getByRole("checkbox", { name }).waitFor();
}

async function addToPlaylist(page: Page, playlist: string, song: string): Promise<void> {
  await page.getByLabel(`Song to add to ${playlist}`).selectOption({ label: song });
  await page.getByRole("button", { name: `Add to ${playlist}`, exact: true }).click();
  await expect.poll(() => page.getByTestId(`songs of ${playlist}`).textContent()).toContain(song);
}

async function rename(page: Page, playlist: string, name: string): Promise<void> {
  await page.getByLabel(`New name of ${playlist}`, { exact: true }).fill(name);
  await page.getByRole("button", { name: `Rename ${playlist}`, exact: true }).click();
  await page.getByRole("button", { name: `Play ${name}`, exact: true }).waitFor();
}

async function saveSetting(page: Page, field: string, value: string): Promise<void> {
  await go(page, "Settings");
  await page.getByRole("textbox", { name: field, exact: true }).fill(value);
  await page.getByRole("button", { name: `Save ${field.toLowerCase()}` }).click();
  await page.getByText(`${field} saved.`).waitFor();
}

/** The songs a playlist row lists, as shown. */
const songsOf = async (page: Page, playlist: string) =>
  ((await page.getByTestId(`songs of ${playlist}`).textContent()) ?? "").split(" · ").sort();

/** What the API holds of `userId` after both devices' offline changes merged. */
async function expectApiAgrees(userId: string): Promise<void> {
  const token = await stackToken(stack, userId);
  const playlists = await call(stack.baseUrl, "GET", "/playlists?limit=100", { token });
  const songs = await call(stack.baseUrl, "GET", "/songs?limit=100", { token });
  const songId = (name: string) =>
    (songs.body.songs as { songId: string; songName: string }[]).find((s) => s.songName === name)
      ?.songId;
  expect(
    (playlists.body.playlists as { name: string; songIds: string[]; plays: number }[])
      .map(({ name, songIds, plays }) => ({ name, songs: [...songIds].sort(), plays }))
      .sort((x, y) => x.name.localeCompare(y.name)),
  ).toEqual([
    { name: "Name from B", songs: [], plays: 0 },
    {
      name: "Summer trip",
      songs: [songId("Song from A"), songId("Song from B")].sort(),
      plays: 1,
    },
  ]);
  const name = await call(stack.baseUrl, "GET", "/displayName", { token });
  const genre = await call(stack.baseUrl, "GET", "/genres/getFav", { token });
  expect([name.body.displayName, genre.body.favGenre]).toEqual(["Driver A", "bossa nova"]);
}

/** Logging out clears the device; another user on it sees nothing of `userId`'s. */
async function expectDeviceForgets(a: Page, userId: string): Promise<void> {
  await logOut(a);
  await logIn(a, unique("next-user"));
  await go(a, "Library");
  await a.getByText("No playlists yet: create one below.").waitFor();
  await a.getByText("No songs yet: add one below.").waitFor();
  expect(await a.getByText(/Summer trip|Song from|Driver A/).count()).toBe(0);
  const databases = await a.evaluate(async () => {
    const idb = (
      globalThis as unknown as { indexedDB: { databases(): Promise<{ name: string }[]> } }
    ).indexedDB;
    return (await idb.databases()).map((database) => database.name);
  });
  expect(databases.filter((database) => database.includes(userId))).toEqual([]);
}

describe("offline, on two devices of one user (issue 35)", { timeout: 300_000 }, () => {
  it("keeps each device's changes made offline, across a reload, and shows both everywhere once back; the API agrees", async () => {
    const userId = unique("two-devices");
    const [a, b] = [await phone(browser), await phone(browser)];
    await logIn(a, userId);
    await go(a, "Library");
    for (const name of ["Road trip", "Rename me", "Old mix"]) {
      await a.getByLabel("New playlist name", { exact: true }).fill(name);
      await a.getByRole("button", { name: "Create playlist" }).click();
      await a.getByRole("button", { name: `Play ${name}`, exact: true }).waitFor();
    }
    await syncState(a, "Synced");
    await logIn(b, userId);
    await go(b, "Library");
    await b.getByRole("button", { name: "Play Old mix", exact: true }).waitFor();
    await Promise.all([appKeptOffline(a), appKeptOffline(b)]);

    await Promise.all([a.context().setOffline(true), b.context().setOffline(true)]);
    // Device A: a new song into the playlist, which it renames; a display name; a name clash;
    // a playlist deleted.
    await syncState(a, "Offline");
    await addSong(a, "Song from A");
    await addToPlaylist(a, "Road trip", "Song from A");
    await rename(a, "Road trip", "Summer trip");
    await rename(a, "Rename me", "Name from A");
    await a.getByRole("button", { name: "Delete playlist Old mix" }).click();
    await saveSetting(a, "Display name", "Driver A");
    await syncState(a, "Offline: 5 changes waiting");
    // Device B: another song into the same playlist, a play, a genre, the other name, and a
    // song added to the playlist A deleted.
    await syncState(b, "Offline");
    await addSong(b, "Song from B");
    await addToPlaylist(b, "Road trip", "Song from B");
    await b.getByRole("button", { name: "Play Road trip", exact: true }).click();
    await b.getByText("1 song, 1 play").waitFor();
    await rename(b, "Rename me", "Name from B");
    await addToPlaylist(b, "Old mix", "Song from B");
    await saveSetting(b, "Favourite genre", "bossa nova");
    await syncState(b, "Offline: 6 changes waiting");

    // A reload offline: the app comes from the service worker, the library from the device.
    await a.reload();
    await syncState(a, "Offline: 5 changes waiting");
    await a.getByRole("heading", { name: "Welcome, Driver A" }).waitFor();
    await go(a, "Library");
    await a.getByRole("button", { name: "Play Summer trip", exact: true }).waitFor();
    expect(await songsOf(a, "Summer trip")).toEqual(["Song from A"]);
    await screenshot(a, "08-offline-after-reload");

    // A back first, then B: B's rename of the same playlist meets A's.
    await a.context().setOffline(false);
    await syncState(a, "Synced");
    await b.context().setOffline(false);
    await syncState(b, "Synced");
    // B was told once what it replaced; the deleted playlist says why B's change did not land.
    await go(b, "Library");
    await b
      .getByText("Renamed on another device to “Name from A”; yours, “Name from B”, was kept.")
      .waitFor();
    await b.getByText("Not saved:").waitFor();
    await screenshot(b, "09-back-online-notes");
    await b.getByRole("button", { name: "Dismiss note on Name from B" }).click();
    await expect.poll(() => b.getByText("Renamed on another device").count()).toBe(0);

    for (const page of [a, b]) {
      // The app pulls when it gets the focus (A pushed before B did).
      await page.evaluate(() =>
        (globalThis as unknown as EventTarget).dispatchEvent(new Event("focus")),
      );
      await go(page, "Library");
      await expect.poll(() => songsOf(page, "Summer trip")).toEqual(["Song from A", "Song from B"]);
      // Each song once in the list of songs too.
      expect(
        await page.getByRole("button", { name: /^Delete song Song from [AB]$/ }).allTextContents(),
      ).toHaveLength(2);
      await page.getByRole("button", { name: "Play Name from B", exact: true }).waitFor();
      await go(page, "Home");
      await page.getByRole("heading", { name: "Welcome, Driver A" }).waitFor();
      await page.getByText("Favourite genre: bossa nova").waitFor();
      // B's play, made offline, counted once.
      await expect.poll(() => page.getByTestId("total-plays").textContent()).toBe("1");
    }
    await go(b, "Library");
    await b.getByText("2 songs, 1 play").waitFor();

    await expectApiAgrees(userId);

    // Logging out clears the device; another user on it sees nothing of the first one's.
    await expectDeviceForgets(a, userId);
    await Promise.all([a.context().close(), b.context().close()]);
  });
});

/** The same stack with the app opened on `localhost`: another site than the tenant's 127.0.0.1. */
const crossSite = (at: RunningStack): RunningStack => ({
  ...at,
  appUrl: at.appUrl.replace("//127.0.0.1:", "//localhost:"),
});

/**
 * What auth0-spa-js keeps of the session in localStorage, changed in place: with `expire`, the
 * access token is made due (as it is a day later), which the next API call renews.
 */
function cachedSession(page: Page, expire = false): Promise<{ refreshToken?: string }> {
  return page.evaluate((expire) => {
    const storage = (
      globalThis as unknown as { localStorage: { setItem(key: string, value: string): void } }
    ).localStorage;
    let refreshToken: string | undefined;
    for (const [key, value] of Object.entries(storage as unknown as Record<string, string>)) {
      const entry = JSON.parse(value);
      if (typeof entry?.body?.access_token !== "string") continue;
      refreshToken = entry.body.refresh_token;
      if (expire) storage.setItem(key, JSON.stringify({ ...entry, expiresAt: 0 }));
    }
    return { refreshToken };
  }, expire);
}

/** What the page asks of the tenant: each token request's grant type, and any /authorize. */
function tenantRequests(page: Page, at: RunningStack): { grants: string[]; authorize: string[] } {
  const seen = { grants: [] as string[], authorize: [] as string[] };
  const tenant = `http://127.0.0.1:${at.issuerPort}/`;
  page.on("request", (r) => {
    if (!r.url().startsWith(tenant)) return;
    const path = new URL(r.url()).pathname;
    if (path === "/authorize") seen.authorize.push(r.url());
    if (path === "/oauth/token" && r.method() === "POST") {
      const body = r.postData() ?? "";
      const grant = body.startsWith("{")
        ? JSON.parse(body).grant_type
        : new URLSearchParams(body).get("grant_type");
      seen.grants.push(String(grant));
    }
  });
  return seen;
}

/** The app's refresh token presented at the tenant from outside the browser (a stolen copy). */
const exchangeElsewhere = (at: RunningStack, refreshToken: string) =>
  fetch(`http://127.0.0.1:${at.issuerPort}/oauth/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      grant_type: "refresh_token",
      client_id: "local-music-app",
      refresh_token: refreshToken,
    }),
  });

describe("a session that ended offline (issue 35)", { timeout: 300_000 }, () => {
  it("keeps the library through a session that ended offline, asks for a login once back, then sends what waited", async () => {
    const page = await phone(browser);
    const userId = unique("lapsed");
    await logIn(page, userId);
    await go(page, "Library");
    await page.getByText("No songs yet: add one below.").waitFor();
    await appKeptOffline(page);
    const { refreshToken } = await cachedSession(page);
    await page.context().setOffline(true);
    await addSong(page, "Kept through a login");
    // The access token expires while offline: the reload cannot renew it, the library shows.
    await cachedSession(page, true);
    await page.reload();
    await syncState(page, "Offline: 1 change waiting");
    await go(page, "Library");
    await page.getByRole("checkbox", { name: "Kept through a login" }).waitFor();
    // Meanwhile the session ends at the tenant (its refresh token spent elsewhere: the family
    // is revoked at the browser's next use).
    expect((await exchangeElsewhere(stack, refreshToken as string)).status).toBe(200);
    await page.context().setOffline(false);
    await page
      .getByRole("alert")
      .getByText(/^Your session has ended: log in again\./)
      .waitFor();
    await page.getByRole("button", { name: "Log in" }).click();
    // The tenant may still know the browser (its own session): then no login page at all.
    const loginPage = page.getByLabel("User id");
    await loginPage.or(page.getByRole("heading", { name: /^Welcome, / })).waitFor();
    if (await loginPage.isVisible()) {
      await loginPage.fill(userId);
      await page.getByRole("button", { name: "Continue" }).click();
    }
    await syncState(page, "Synced");
    const token = await stackToken(stack, userId);
    const songs = await call(stack.baseUrl, "GET", "/songs?limit=100", { token });
    expect((songs.body.songs as { songName: string }[]).map((song) => song.songName)).toEqual([
      "Kept through a login",
    ]);
    await page.context().close();
  });
});

describe("the session, with third-party cookies blocked", { timeout: 120_000 }, () => {
  it("runs in a browser that keeps no cookie for a frame of another site", async () => {
    // The app on localhost, the tenant on 127.0.0.1: a hidden iframe to the tenant is such a
    // frame, so silent renewal through it (prompt=none) cannot see the tenant's session.
    const probe = createServer((request, response) => {
      response.writeHead(200, { "content-type": "text/html" });
      const [, , host] = (request.url ?? "").split("/");
      response.end(host ? `<iframe src="http://${host}:${port}/frame"></iframe>` : "frame");
    });
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as AddressInfo).port;
    const cookiesOfFrame = async (host: string) => {
      const page = await phone(browser);
      await page.goto(`http://127.0.0.1:${port}/top/${host}`);
      const frame = await (await page.waitForSelector("iframe")).contentFrame();
      await frame?.waitForLoadState();
      const cookie = await frame?.evaluate(() => {
        const doc = (globalThis as unknown as { document: { cookie: string } }).document;
        doc.cookie = "probe=1; SameSite=None; Secure";
        return doc.cookie;
      });
      await page.context().close();
      return cookie;
    };
    try {
      // The same site keeps its cookie; another site's frame keeps none.
      await expect(cookiesOfFrame("127.0.0.1")).resolves.toBe("probe=1");
      await expect(cookiesOfFrame("localhost")).resolves.toBe("");
    } finally {
      probe.close();
    }
  });

  it("keeps the session across a reload and renews tokens with the refresh token, never an iframe", async () => {
    const at = crossSite(stack);
    const page = await phone(browser);
    const userId = unique("returning");
    const seen = tenantRequests(page, at);
    await logIn(page, userId, at);
    const { refreshToken: first } = await cachedSession(page);
    expect(first).toEqual(expect.any(String));
    const token = await accessToken(page);

    // The access token is due: the reload renews it from the refresh token alone.
    await cachedSession(page, true);
    seen.authorize.length = 0;
    seen.grants.length = 0;
    await page.reload();
    await page.getByRole("heading", { name: "Welcome, user" }).waitFor();
    expect(seen.grants).toEqual(["refresh_token"]);
    expect(seen.authorize).toEqual([]);
    expect(page.frames()).toHaveLength(1);
    const renewed = await accessToken(page);
    expect(renewed).not.toBe(token);
    expect(decodeJwt(renewed)).toMatchObject({ sub: userId, [ROLES]: [] });
    // Rotated: the browser now holds a new refresh token.
    const { refreshToken: second } = await cachedSession(page);
    expect(second).toEqual(expect.any(String));
    expect(second).not.toBe(first);

    // Logging out revokes it at the tenant: a copy of it is worth nothing after.
    await logOut(page);
    const copy = await exchangeElsewhere(at, second as string);
    expect(copy.status).toBe(400);
    await page.context().close();
  });
});

describe("token refreshes, with third-party cookies blocked", { timeout: 120_000 }, () => {
  it("shows a role granted, then taken, after the next token refresh, without logging out", async () => {
    const at = crossSite(stack);
    const page = await phone(browser);
    const userId = unique("promoted");
    await logIn(page, userId, at);
    await expect(page.getByText("EDITOR").count()).resolves.toBe(0);

    // The plays that earn the role, from another device of the same user.
    const user = await stackToken(stack, userId);
    const created = await call(stack.baseUrl, "POST", "/playlists", {
      token: user,
      body: { name: "On the road", songIds: [] },
    });
    expect(created.status).toBe(201);
    for (let played = 0; played < EDITOR_PLAYS; played++) {
      const play = await call(
        stack.baseUrl,
        "POST",
        `/playlists/${created.body.playlistId}/plays`,
        {
          token: user,
        },
      );
      expect(play.status).toBe(200);
    }
    // The next refresh runs the Action, whose hook grants the role: Home shows it.
    await cachedSession(page, true);
    await go(page, "Settings");
    await go(page, "Home");
    await page.getByText("EDITOR", { exact: true }).waitFor();
    expect(decodeJwt(await accessToken(page))[ROLES]).toEqual(["playlist_editor"]);

    // An operator denies the role: the next refresh takes it away.
    const operator = await signAccessToken(await loadOrCreateSigningKey(stack.dataDir), {
      issuer: `http://127.0.0.1:${stack.issuerPort}/`,
      audience: "https://api.music.local",
      sub: "auth0|operator",
      permissions: ["update:users_app_metadata"],
    });
    const denied = await call(stack.baseUrl, "PATCH", `/users/${encodeURIComponent(userId)}`, {
      token: operator,
      body: { app_metadata: { denied_roles: ["playlist_editor"] } },
    });
    expect(denied.status).toBe(200);
    await cachedSession(page, true);
    await go(page, "Settings");
    await go(page, "Home");
    await page.getByRole("heading", { name: "Welcome, user" }).waitFor();
    await expect.poll(() => page.getByText("EDITOR").count()).toBe(0);
    expect(decodeJwt(await accessToken(page))[ROLES]).toEqual([]);
    await page.context().close();
  });

  it("asks the user to log in again when their refresh token was used elsewhere (the family is revoked)", async () => {
    const at = crossSite(stack);
    const page = await phone(browser);
    await logIn(page, unique("copied"), at);
    const { refreshToken } = await cachedSession(page);
    // A copy of the refresh token is spent by someone else first.
    const elsewhere = await exchangeElsewhere(at, refreshToken as string);
    expect(elsewhere.status).toBe(200);
    const stolen = ((await elsewhere.json()) as { refresh_token: string }).refresh_token;
    // The app presents the spent token at its next renewal, mid-session: refused, and the whole
    // family with it; the app goes back to its login screen.
    await cachedSession(page, true);
    await go(page, "Settings");
    await page.getByRole("button", { name: "Log in" }).waitFor();
    expect((await exchangeElsewhere(at, stolen)).status).toBe(400);
    // Nothing of the session is left in the browser: a reload asks for a login too.
    await page.reload();
    await page.getByRole("button", { name: "Log in" }).waitFor();
    await page.context().close();
  });
});
