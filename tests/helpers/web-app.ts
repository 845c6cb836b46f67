/**
 * The sample app under `npm start` for the browser tests of tests/e2e/web-app*.test.ts: the
 * stack with the real post-login Action (an editor after EDITOR_PLAYS plays, no play cooldown),
 * Debian's Chromium with third-party cookies blocked, and the steps of a person at the app.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll } from "vitest";
import { LOCAL_TENANT, type RunningStack, startStack } from "../../scripts/local/stack.ts";
import { launchChromium } from "./browser.ts";

export const ROLES = "https://music.example.com/roles";
export const EDITOR_PLAYS = 3;
export let stack: RunningStack;
/** The same app with the default play cooldown (30 s), when serveWebApp was asked for it. */
export let cooldownStack: RunningStack;
export let browser: Browser;

/** Starts the stacks and the browser for the test file, and stops them after it. */
export function serveWebApp(options: { withCooldownStack: boolean }): void {
  beforeAll(async () => {
    const [main, cooldown, chromium] = await Promise.all([
      startStack({
        ...LOCAL_TENANT,
        PLAY_COOLDOWN_SECONDS: "0",
        PLAYLIST_EDITOR_MIN_PLAYS: String(EDITOR_PLAYS),
      }),
      options.withCooldownStack
        ? startStack({ ...LOCAL_TENANT, PLAY_COOLDOWN_SECONDS: "" })
        : undefined,
      // Third-party cookies blocked, as Safari and Chrome's tracking protection block them.
      launchChromium([], { thirdPartyCookies: "blocked" }),
    ]);
    stack = main;
    browser = chromium;
    if (cooldown) cooldownStack = cooldown;
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all([stack?.stop(), cooldownStack?.stop()]);
  });
}

export const unique = (name: string) => `auth0|${name}-${Date.now().toString(36)}`;

export async function logIn(page: Page, userId: string, at: RunningStack = stack): Promise<void> {
  await page.goto(`${at.appUrl}/`);
  await page.getByRole("button", { name: "Log in" }).click();
  // The local tenant's login page, on the issuer's origin.
  await page.getByLabel("User id").fill(userId);
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByRole("heading", { name: /^Welcome, / }).waitFor();
}

export async function logOut(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Log out" }).click();
  await page.getByRole("button", { name: "Log in" }).waitFor();
}

export const go = (page: Page, screen: string) =>
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

export async function accessToken(page: Page): Promise<string> {
  const [token] = await cachedAccessTokens(page);
  if (!token) throw new Error("no access token in the app's cache");
  return token;
}
