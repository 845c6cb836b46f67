import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { userAppMetadata } from "../../scripts/local/issuer.ts";
import { phone, screenshot } from "../helpers/browser.ts";
import {
  accessToken,
  browser,
  cooldownStack,
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
 * The seed's story in a real browser (Debian's Chromium, driven by playwright-core) at a phone's
 * size: the sample app served by `npm start`, a login through the local Auth0 tenant with
 * auth0-spa-js (Authorization Code with PKCE), the real post-login Action granting the editor
 * role from plays, a person's data rights, and the API called cross-origin under its CORS
 * settings. The session and the library on the device (offline, renewals with rotating refresh
 * tokens, third-party cookies blocked) are tests/e2e/web-app-session.test.ts.
 */
serveWebApp({ withCooldownStack: true });

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
