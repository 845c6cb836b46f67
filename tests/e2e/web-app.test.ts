import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { decodeJwt } from "jose";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  loadOrCreateSigningKey,
  signAccessToken,
  userAppMetadata,
} from "../../scripts/local/issuer.ts";
import {
  LOCAL_TENANT,
  type RunningStack,
  stackToken,
  startStack,
} from "../../scripts/local/stack.ts";
import { launchChromium, phone, screenshot } from "../helpers/browser.ts";
import { call } from "../helpers/http.ts";

/**
 * The seed's story in a real browser (Debian's Chromium, driven by playwright-core) at a phone's
 * size: the sample app served by `npm start`, a login through the local Auth0 tenant with
 * auth0-spa-js (Authorization Code with PKCE; renewals with rotating refresh tokens, third-party
 * cookies blocked), the real post-login Action granting the editor role from plays, and the API
 * called cross-origin under its CORS settings.
 */
const ROLES = "https://music.example.com/roles";
const EDITOR_PLAYS = 3;
let stack: RunningStack;
/** The same app with the default play cooldown (30 s). */
let cooldownStack: RunningStack;
let browser: Browser;

beforeAll(async () => {
  [stack, cooldownStack, browser] = await Promise.all([
    startStack({
      ...LOCAL_TENANT,
      PLAY_COOLDOWN_SECONDS: "0",
      PLAYLIST_EDITOR_MIN_PLAYS: String(EDITOR_PLAYS),
    }),
    startStack({ ...LOCAL_TENANT, PLAY_COOLDOWN_SECONDS: "" }),
    // Third-party cookies blocked, as Safari and Chrome's tracking protection block them.
    launchChromium([], { thirdPartyCookies: "blocked" }),
  ]);
});
afterAll(async () => {
  await browser?.close();
  await Promise.all([stack?.stop(), cooldownStack?.stop()]);
});

const unique = (name: string) => `auth0|${name}-${Date.now().toString(36)}`;

async function logIn(page: Page, userId: string, at: RunningStack = stack): Promise<void> {
  await page.goto(`${at.appUrl}/`);
  await page.getByRole("button", { name: "Log in" }).click();
  // The local tenant's login page, on the issuer's origin.
  await page.getByLabel("User id").fill(userId);
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByRole("heading", { name: /^Welcome, / }).waitFor();
}

async function logOut(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Log out" }).click();
  await page.getByRole("button", { name: "Log in" }).waitFor();
}

const go = (page: Page, screen: string) =>
  page.getByRole("navigation").getByRole("button", { name: screen }).click();

/**
 * The access tokens auth0-spa-js keeps for the API (cacheLocation: localstorage); with `drop`,
 * removed too, as when they expire (the ID token, the user, stays).
 */
function cachedAccessTokens(page: Page, drop = false): Promise<string[]> {
  return page.evaluate((drop) => {
    // This runs in the page (tests are typed without the DOM's globals).
    const storage = (globalThis as unknown as { localStorage: { removeItem(key: string): void } })
      .localStorage;
    const tokens: string[] = [];
    for (const [key, value] of Object.entries(storage as unknown as Record<string, string>)) {
      const token = JSON.parse(value)?.body?.access_token;
      if (typeof token !== "string") continue;
      tokens.push(token);
      if (drop) storage.removeItem(key);
    }
    return tokens;
  }, drop);
}

async function accessToken(page: Page): Promise<string> {
  const [token] = await cachedAccessTokens(page);
  if (!token) throw new Error("no access token in the app's cache");
  return token;
}

describe("the sample app, as the seed tells it", { timeout: 180_000 }, () => {
  const editorId = unique("editor");
  let featuredName = "";

  it("welcomes a new user as 'user', then by the display name they set", async () => {
    const page = await phone(browser);
    await logIn(page, editorId);
    await expect(page.getByRole("heading", { name: "Welcome, user" }).isVisible()).resolves.toBe(
      true,
    );
    await expect(page.getByText("EDITOR").count()).resolves.toBe(0);
    await screenshot(page, "01-welcome-new-user");

    // The token came from the login page through the Action: it carries the roles claim.
    const claims = decodeJwt(await accessToken(page));
    expect(claims).toMatchObject({ sub: editorId, aud: "https://api.music.local", [ROLES]: [] });

    await go(page, "Settings");
    const name = page.getByRole("textbox", { name: "Display name", exact: true });
    // The screen has loaded the current name.
    await expect.poll(() => name.inputValue()).toBe("user");
    await name.fill("J".repeat(65));
    await page.getByRole("button", { name: "Save display name" }).click();
    // The API's own message, not a generic failure.
    await expect(page.getByRole("alert").textContent()).resolves.toMatch(/displayName.*64/i);
    await name.fill("J-vald3z");
    await page.getByRole("button", { name: "Save display name" }).click();
    await page.getByText("Display name saved.").waitFor();
    await page.getByRole("textbox", { name: "Favourite genre", exact: true }).fill("jazz");
    await page.getByRole("button", { name: "Save favourite genre" }).click();
    await page.getByText("Favourite genre saved.").waitFor();
    await screenshot(page, "02-settings");

    await go(page, "Home");
    await page.getByRole("heading", { name: "Welcome, J-vald3z" }).waitFor();
    await page.getByText("Favourite genre: jazz").waitFor();
    await page.context().close();
  });

  it("plays a playlist up to the threshold; after logging in again the user is an EDITOR", async () => {
    const page = await phone(browser);
    await logIn(page, editorId);
    await go(page, "Library");
    await page.getByLabel("Song name", { exact: true }).fill("So What");
    await page.getByLabel("Song genre", { exact: true }).fill("jazz");
    await page.getByRole("button", { name: "Add song" }).click();
    await page.getByText("So What").first().waitFor();
    await page.getByLabel("New playlist name").fill("Modal");
    await page.getByRole("checkbox", { name: "So What" }).check();
    await page.getByRole("button", { name: "Create playlist" }).click();
    const play = page.getByRole("button", { name: "Play Modal" });
    for (let played = 1; played <= EDITOR_PLAYS; played++) {
      await play.click();
      await page.getByText(`1 song, ${played} play${played === 1 ? "" : "s"}`).waitFor();
    }
    await expect(page.getByTestId("total-plays").textContent()).resolves.toBe(String(EDITOR_PLAYS));
    await screenshot(page, "03-library");

    // Roles reach the token at login: the Action runs again on the next one.
    await go(page, "Home");
    await expect(page.getByText("EDITOR").count()).resolves.toBe(0);
    await logOut(page);
    await logIn(page, editorId);
    await page.getByText("EDITOR", { exact: true }).waitFor();
    await page.getByRole("heading", { name: "Welcome, J-vald3z" }).waitFor();
    await screenshot(page, "04-home-editor");
    expect(decodeJwt(await accessToken(page))[ROLES]).toEqual(["playlist_editor"]);
    // The Action mirrored the role into the user's app_metadata at the tenant.
    expect(userAppMetadata(stack.dataDir).get(editorId)).toEqual({ roles: ["playlist_editor"] });

    await go(page, "Featured");
    featuredName = `Staff picks ${Date.now().toString(36)}`;
    await page.getByLabel("Featured playlist name", { exact: true }).fill("Staff pick");
    await page.getByRole("button", { name: "Create featured playlist" }).click();
    const rename = page.getByLabel("Name of Staff pick");
    await rename.fill(featuredName);
    await page.getByRole("button", { name: "Rename" }).click();
    await page.getByLabel(`Name of ${featuredName}`).waitFor();
    await screenshot(page, "05-featured-editor");
    await page.context().close();
  });

  it("shows a second user the editor's change, without edit controls; the API refuses them too", async () => {
    expect(featuredName).not.toBe("");
    const page = await phone(browser);
    await logIn(page, unique("listener"));
    await page.getByRole("heading", { name: "Welcome, user" }).waitFor();
    await go(page, "Featured");
    await page.getByText(featuredName).waitFor();
    await expect(page.getByRole("button", { name: "Rename" }).count()).resolves.toBe(0);
    await expect(
      page.getByRole("button", { name: "Create featured playlist" }).count(),
    ).resolves.toBe(0);
    await expect(page.getByRole("textbox").count()).resolves.toBe(0);
    await screenshot(page, "06-featured-listener");

    const token = await accessToken(page);
    const refused = await page.evaluate(
      async ({ api, token }) => {
        const response = await fetch(`${api}/playlists/featured`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ name: "mine now", songIds: [] }),
        });
        return { status: response.status, body: await response.json() };
      },
      { api: stack.baseUrl, token },
    );
    expect(refused).toMatchObject({ status: 403, body: { statusCode: 403 } });
    await page.context().close();
  });
});

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

    // Logging out clears the device; another user on it sees nothing of the first one's.
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
    await Promise.all([a.context().close(), b.context().close()]);
  });

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

describe("a person's data rights, from the app", { timeout: 180_000 }, () => {
  it("downloads everything the API keeps as one file, then deletes the account; the tenant forgets the user", async () => {
    const userId = unique("leaving");
    const page = await phone(browser);
    await logIn(page, userId);
    await go(page, "Library");
    await page.getByLabel("Song name", { exact: true }).fill("Farewell");
    await page.getByLabel("Song genre", { exact: true }).fill("blues");
    await page.getByRole("button", { name: "Add song" }).click();
    await page.getByText("Farewell").first().waitFor();
    await page.getByLabel("New playlist name").fill("Last dance");
    await page.getByRole("checkbox", { name: "Farewell" }).check();
    await page.getByRole("button", { name: "Create playlist" }).click();
    const play = page.getByRole("button", { name: "Play Last dance" });
    for (let played = 1; played <= EDITOR_PLAYS; played++) {
      await play.click();
      await page.getByText(`1 song, ${played} play${played === 1 ? "" : "s"}`).waitFor();
    }
    // A login after the plays: the Action mirrors the role at the tenant.
    await logOut(page);
    await logIn(page, userId);
    await page.getByText("EDITOR", { exact: true }).waitFor();
    expect(userAppMetadata(stack.dataDir).get(userId)).toEqual({ roles: ["playlist_editor"] });

    await go(page, "Settings");
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Download my data" }).click(),
    ]);
    expect(download.suggestedFilename()).toBe("music-data-export.json");
    const saved = JSON.parse(readFileSync(await download.path(), "utf8"));
    expect(saved).toMatchObject({
      format: "music-user-data-export/1",
      user: {
        user_id: userId,
        user_metadata: { displayName: "user" },
        app_metadata: { roles: ["playlist_editor"] },
      },
      totalPlays: EDITOR_PLAYS,
      songs: [{ songName: "Farewell", genre: "blues" }],
      playlists: [{ name: "Last dance", plays: EDITOR_PLAYS }],
    });
    expect(saved.playlists[0].songIds).toEqual([saved.songs[0].songId]);
    expect(saved).not.toHaveProperty("nextCursor");
    await screenshot(page, "08-your-data");

    // Asked twice: the first button only asks.
    await page.getByRole("button", { name: "Delete my account" }).click();
    await page.getByRole("group", { name: /cannot be undone/ }).waitFor();
    await screenshot(page, "09-delete-account");
    await page.getByRole("button", { name: "Yes, delete my account" }).click();
    await page.getByRole("button", { name: "Log in" }).waitFor();
    // The tenant forgot the user: its mirror of their app_metadata, and their session.
    expect(userAppMetadata(stack.dataDir).get(userId)).toEqual({});

    // The login page asks again, and the same user id comes back as a new user.
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByLabel("User id").fill(userId);
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByRole("heading", { name: "Welcome, user" }).waitFor();
    await expect(page.getByText("EDITOR").count()).resolves.toBe(0);
    expect(decodeJwt(await accessToken(page))[ROLES]).toEqual([]);
    await go(page, "Library");
    await expect.poll(() => page.getByTestId("total-plays").textContent()).toBe("0");
    await expect(page.getByText("Farewell").count()).resolves.toBe(0);
    await page.context().close();
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

describe("the native app's registration under npm start", () => {
  it("knows local-music-native with its custom-scheme callback, PKCE required", async () => {
    const authorize = (params: Record<string, string>) =>
      fetch(
        `http://127.0.0.1:${stack.issuerPort}/authorize?${new URLSearchParams({
          client_id: "local-music-native",
          response_type: "code",
          redirect_uri: "com.example.music://callback",
          scope: "openid profile email offline_access",
          audience: "https://api.music.local",
          ...params,
        })}`,
        { redirect: "manual" },
      );
    const login = await authorize({
      code_challenge: "x".repeat(43),
      code_challenge_method: "S256",
    });
    expect(login.status).toBe(303);
    expect(login.headers.get("location")).toMatch(/^\/login\//);
    const noPkce = await authorize({});
    expect(noPkce.headers.get("location")).toMatch(
      /^com\.example\.music:\/\/callback\?error=invalid_request/,
    );
  });
});

describe("an API that does not answer yet", { timeout: 60_000 }, () => {
  it("shows that the API is starting, then the screen once it answers", async () => {
    const page = await phone(browser);
    // Nothing answers on the API's port (npm start still starting it): connections refused.
    const api = `${stack.baseUrl}/**`;
    await page.route(api, (route) => route.abort("connectionrefused"));
    await page.goto(`${stack.appUrl}/`);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByLabel("User id").fill(unique("early"));
    await page.getByRole("button", { name: "Continue" }).click();
    await go(page, "Settings");
    await page
      .getByRole("alert")
      .getByText("The music service is starting or unreachable; retrying…")
      .waitFor();
    expect(await page.getByText("Failed to fetch").count()).toBe(0);
    await page.unroute(api);
    // The retried sync fills the form and the notice goes.
    await expect
      .poll(() => page.locator("#displayName").inputValue(), { timeout: 10_000 })
      .toBe("user");
    await expect.poll(() => page.getByRole("alert").count()).toBe(0);
    await page.context().close();
  });
});

describe("the play cooldown", { timeout: 60_000 }, () => {
  it("tells the user when they may play again", async () => {
    const page = await phone(browser);
    await logIn(page, unique("hasty"), cooldownStack);
    await go(page, "Library");
    await page.getByLabel("New playlist name").fill("Hasty");
    await page.getByRole("button", { name: "Create playlist" }).click();
    const play = page.getByRole("button", { name: "Play Hasty" });
    await play.click();
    await page.getByText("0 songs, 1 play").waitFor();
    await play.click();
    await expect(page.getByRole("alert").textContent()).resolves.toMatch(
      /^Try again in (29|30) s\.$/,
    );
    // Nothing was counted.
    await expect(page.getByText("0 songs, 1 play").isVisible()).resolves.toBe(true);
    await screenshot(page, "07-play-too-soon");
    await page.context().close();
  });
});

describe("CORS under npm start", { timeout: 60_000 }, () => {
  let elsewhere: Server;
  let elsewhereUrl: string;
  beforeAll(async () => {
    elsewhere = createServer((_request, response) => {
      response.writeHead(200, { "content-type": "text/html" });
      response.end("<!doctype html><title>another site</title>");
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, "127.0.0.1", resolve));
    elsewhereUrl = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}`;
  });
  afterAll(() => elsewhere?.close());

  /** A call with a bearer token from a page on `origin`, as the browser lets it through. */
  async function callFrom(origin: string): Promise<string> {
    const page = await phone(browser);
    await page.goto(`${origin}/`);
    const outcome = await page.evaluate(async (api) => {
      try {
        const response = await fetch(`${api}/displayName`, {
          headers: { authorization: "Bearer not-a-token" },
        });
        return `status ${response.status}`;
      } catch (error) {
        return `blocked: ${(error as Error).message}`;
      }
    }, stack.baseUrl);
    await page.context().close();
    return outcome;
  }

  it("lets the sample app's origin read the API's answers", async () => {
    await expect(callFrom(stack.appUrl)).resolves.toBe("status 401");
  });

  it("keeps every other origin out", async () => {
    await expect(callFrom(elsewhereUrl)).resolves.toMatch(/^blocked: /);
  });
});
