import { AxeBuilder } from "@axe-core/playwright";
import { type FlowResult, startFlow } from "lighthouse";
import type { Browser, Page } from "playwright-core";
import puppeteer from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/local/ports.ts";
import { LOCAL_TENANT, type RunningStack, startStack } from "../../scripts/local/stack.ts";
import { launchChromium, screenshot } from "../helpers/browser.ts";

/**
 * The sample app for every person (issue 27): each control named by what it is, axe-core
 * finding no violation on any screen at a phone's size and a desktop's, forms that never
 * overwrite what the person typed, states that say what is happening, and featured playlists
 * editable only by the editor who created them.
 */
const VIEWPORTS = {
  phone: { width: 390, height: 844 },
  desktop: { width: 1280, height: 800 },
} as const;
let stack: RunningStack;
let browser: Browser;
/** Chromium's DevTools port: Lighthouse audits the very pages the test drives. */
let debuggingPort: number;

beforeAll(async () => {
  debuggingPort = await freePort();
  [stack, browser] = await Promise.all([
    startStack({ ...LOCAL_TENANT, PLAY_COOLDOWN_SECONDS: "0", PLAYLIST_EDITOR_MIN_PLAYS: "1" }),
    launchChromium([`--remote-debugging-port=${debuggingPort}`]),
  ]);
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const unique = (name: string) => `auth0|${name}-${Date.now().toString(36)}`;

async function open(viewport: keyof typeof VIEWPORTS = "phone"): Promise<Page> {
  const context = await browser.newContext({ viewport: VIEWPORTS[viewport] });
  const page = await context.newPage();
  // Lighthouse shares the machine's cores with the stack: waits get more room than 30 s.
  page.setDefaultTimeout(60_000);
  return page;
}

/** `welcome`: waits for Home's greeting (the profile pulled); else only for the screens. */
async function logIn(page: Page, userId: string, welcome = true): Promise<void> {
  await page.goto(`${stack.appUrl}/`);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByLabel("User id").fill(userId);
  await page.getByRole("button", { name: "Continue" }).click();
  if (welcome) await page.getByRole("heading", { name: /^Welcome, / }).waitFor();
  else await page.getByRole("navigation").waitFor();
}

/** The pulls of the app's sync (GET /sync), to hold one back as a slow network would. */
const pulls = (url: URL) => url.origin === stack.baseUrl && url.pathname === "/sync";

/** The header's sync state: "Offline: 1 change waiting", "Synced"… */
const syncState = (page: Page, text: string) =>
  page.getByRole("banner").getByRole("status").getByText(text, { exact: true }).waitFor();

const go = (page: Page, screen: string) =>
  page.getByRole("navigation").getByRole("button", { name: screen }).click();

/** A song, a playlist of it played once, a login again: the Action makes the user an editor. */
async function becomeEditor(page: Page, userId: string): Promise<void> {
  await logIn(page, userId);
  await go(page, "Library");
  await page.getByLabel("Song name", { exact: true }).fill("Blue in Green");
  await page.getByLabel("Song genre", { exact: true }).fill("jazz");
  await page.getByRole("button", { name: "Add song" }).click();
  await page.getByRole("checkbox", { name: "Blue in Green" }).waitFor();
  await page.getByLabel("New playlist name", { exact: true }).fill("Kind of Blue");
  await page.getByRole("checkbox", { name: "Blue in Green" }).check();
  await page.getByRole("button", { name: "Create playlist" }).click();
  await page.getByRole("button", { name: "Play Kind of Blue" }).click();
  await page.getByText("1 song, 1 play").waitFor();
  await page.getByRole("button", { name: "Log out" }).click();
  await page.getByRole("button", { name: "Log in" }).waitFor();
  await logIn(page, userId);
  await page.getByText("EDITOR", { exact: true }).waitFor();
}

async function createFeatured(page: Page, name: string): Promise<void> {
  await go(page, "Featured");
  await page.getByLabel("Featured playlist name", { exact: true }).fill(name);
  await page.getByRole("button", { name: "Create featured playlist" }).click();
  await page.getByLabel(`Name of ${name}`).waitFor();
}

/** axe-core's violations on the page as it is now, one line each: rule, then where. */
async function violations(page: Page): Promise<string[]> {
  const { violations } = await new AxeBuilder({ page }).analyze();
  return violations.map(
    (v) => `${v.id} (${v.help}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`,
  );
}

/** A gate a route handler waits at (`passed`) until the test opens it. */
function gate() {
  let open = () => {};
  const passed = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { passed, open };
}

/** The loaded screen: no "Loading…" status left. */
const settled = (page: Page) =>
  expect.poll(() => page.getByText(/^Loading/).count(), { timeout: 20_000 }).toBe(0);

describe("axe-core on every screen", { timeout: 240_000 }, () => {
  for (const viewport of Object.keys(VIEWPORTS) as (keyof typeof VIEWPORTS)[]) {
    it(`finds no violation at the ${viewport}'s size`, async () => {
      const page = await open(viewport);
      await page.goto(`${stack.appUrl}/`);
      await page.getByRole("button", { name: "Log in" }).waitFor();
      const found: Record<string, string[]> = { login: await violations(page) };

      // An editor with a song, a playlist and a featured playlist: every control shows.
      await becomeEditor(page, unique(`axe-${viewport}`));
      await createFeatured(page, `Pick ${viewport}`);
      for (const screen of ["Home", "Library", "Featured", "Settings"]) {
        await go(page, screen);
        await settled(page);
        found[screen] = await violations(page);
      }
      await page.getByRole("button", { name: "Delete my account" }).click();
      await page.getByRole("group", { name: /cannot be undone/ }).waitFor();
      found["Settings, asked to confirm"] = await violations(page);
      await screenshot(page, `a11y-settings-${viewport}`);

      expect(found).toEqual({
        login: [],
        Home: [],
        Library: [],
        Featured: [],
        Settings: [],
        "Settings, asked to confirm": [],
      });
      await page.context().close();
    });
  }
});

describe("controls named by what they are", { timeout: 180_000 }, () => {
  it("names every field and button on every screen; a hint is a description, not the name", async () => {
    const page = await open();
    await becomeEditor(page, unique("names"));
    await createFeatured(page, "Named pick");
    const named = (role: "button" | "textbox" | "checkbox", name: string) =>
      page.getByRole("main").getByRole(role, { name, exact: true }).count();

    await go(page, "Settings");
    await settled(page);
    for (const [role, name] of [
      ["textbox", "Display name"],
      ["textbox", "Favourite genre"],
      ["button", "Save display name"],
      ["button", "Save favourite genre"],
      ["button", "Download my data"],
      ["button", "Delete my account"],
    ] as const) {
      await expect(named(role, name), `${role} "${name}"`).resolves.toBe(1);
    }
    const described = await page
      .getByRole("textbox", { name: "Display name", exact: true })
      .evaluate((input) => {
        const doc = input.ownerDocument;
        const ids = (input.getAttribute("aria-describedby") ?? "").split(" ");
        return ids.map((id: string) => doc.getElementById(id)?.textContent).join(" ");
      });
    expect(described).toBe("Shown when you log in and to other users");

    await go(page, "Library");
    await settled(page);
    for (const [role, name] of [
      ["textbox", "Song name"],
      ["textbox", "Song genre"],
      ["button", "Add song"],
      ["button", "Delete song Blue in Green"],
      ["textbox", "New playlist name"],
      ["checkbox", "Blue in Green"],
      ["button", "Create playlist"],
      ["button", "Play Kind of Blue"],
      ["button", "Delete playlist Kind of Blue"],
    ] as const) {
      await expect(named(role, name), `${role} "${name}"`).resolves.toBe(1);
    }

    await go(page, "Featured");
    await settled(page);
    for (const [role, name] of [
      ["textbox", "Name of Named pick"],
      ["button", "Rename Named pick"],
      ["button", "Delete featured Named pick"],
      ["textbox", "Featured playlist name"],
      ["button", "Create featured playlist"],
    ] as const) {
      await expect(named(role, name), `${role} "${name}"`).resolves.toBe(1);
    }
    await page.context().close();
  });
});

describe("forms that never overwrite what the person typed", { timeout: 120_000 }, () => {
  it("keeps the fields disabled until the profile arrives, and saves the name typed right away", async () => {
    const page = await open();
    // The first pull (the profile with it) arrives a moment after Settings opens, as over a
    // slow phone network.
    const held = gate();
    await page.route(pulls, async (route) => {
      if (route.request().method() === "GET") await held.passed;
      await route.continue();
    });
    await logIn(page, unique("eager"), false);
    await go(page, "Settings");
    const name = page.getByRole("textbox", { name: "Display name", exact: true });
    await page.getByRole("status").getByText("Loading your settings…").waitFor();
    expect(await name.isDisabled()).toBe(true);
    // The loading state passes axe-core too.
    expect(await violations(page)).toEqual([]);
    // The person types as soon as they can (fill waits until the field is editable).
    const typing = name.fill("Typed at once");
    held.open();
    await typing;
    await settled(page);
    expect(await name.inputValue()).toBe("Typed at once");
    await page.getByRole("button", { name: "Save display name" }).click();
    await page.getByText("Display name saved.").waitFor();
    expect(await name.inputValue()).toBe("Typed at once");
    await go(page, "Home");
    await page.getByRole("heading", { name: "Welcome, Typed at once" }).waitFor();
    await page.context().close();
  });
});

describe("lists that keep what the person added", { timeout: 120_000 }, () => {
  it("keeps a song added while the first pull was under way, though that pull ends last", async () => {
    const page = await open();
    // The first pull, taken before the song is added, is held back until after the song is
    // on the device, as a slow phone network can deliver it.
    const held = gate();
    const delivered = gate();
    let first = true;
    await page.route(pulls, async (route) => {
      if (!first) return route.continue();
      first = false;
      const response = await route.fetch();
      await held.passed;
      await route.fulfill({ response });
      delivered.open();
    });
    await logIn(page, unique("hasty"), false);
    await go(page, "Library");
    await page.getByLabel("Song name", { exact: true }).fill("So What");
    await page.getByLabel("Song genre", { exact: true }).fill("jazz");
    await page.getByRole("button", { name: "Add song" }).click();
    await page.getByRole("checkbox", { name: "So What" }).waitFor();
    held.open();
    await delivered.passed;
    await syncState(page, "Synced");
    await settled(page);
    expect(await page.getByRole("checkbox", { name: "So What" }).count()).toBe(1);
    await page.context().close();
  });
});

describe("states that say what is happening", { timeout: 120_000 }, () => {
  it("says a new user's lists are empty", async () => {
    const page = await open();
    await logIn(page, unique("empty"));
    await go(page, "Library");
    await page.getByText("No songs yet: add one below.").waitFor();
    await page.getByText("No playlists yet: create one below.").waitFor();
    expect(await violations(page)).toEqual([]);
    await page.context().close();
  });

  it("says the device is offline and what waits, on every screen and after a reload, never 'Failed to fetch'; axe-core finds nothing", async () => {
    const page = await open();
    await logIn(page, unique("offline"));
    await go(page, "Library");
    await page.getByText("No songs yet: add one below.").waitFor();
    // The service worker keeps the app: it opens offline from then on.
    await page.waitForFunction(() => {
      type Worker = { serviceWorker: { controller: unknown } };
      return (globalThis as unknown as { navigator: Worker }).navigator.serviceWorker.controller;
    });
    await page.context().setOffline(true);
    await syncState(page, "Offline");
    await page.getByLabel("Song name", { exact: true }).fill("Made offline");
    await page.getByLabel("Song genre", { exact: true }).fill("jazz");
    await page.getByRole("button", { name: "Add song" }).click();
    await syncState(page, "Offline: 1 change waiting");
    const found: Record<string, string[]> = {};
    for (const screen of ["Home", "Library", "Settings"]) {
      await go(page, screen);
      await settled(page);
      found[screen] = await violations(page);
    }
    await page.reload();
    await syncState(page, "Offline: 1 change waiting");
    await go(page, "Library");
    await page.getByRole("checkbox", { name: "Made offline" }).waitFor();
    found["Library, reloaded offline"] = await violations(page);
    await screenshot(page, "a11y-offline");
    expect(await page.getByText("Failed to fetch").count()).toBe(0);
    await page.context().setOffline(false);
    await syncState(page, "Synced");
    expect(await page.getByRole("alert").count()).toBe(0);
    expect(found).toEqual({
      Home: [],
      Library: [],
      Settings: [],
      "Library, reloaded offline": [],
    });
    await page.context().close();
  });

  it("shows a change the API refused on the item, with its message, until dismissed", async () => {
    const page = await open();
    await logIn(page, unique("refused"));
    await go(page, "Library");
    await page.getByLabel("Song name", { exact: true }).fill("L".repeat(201));
    await page.getByLabel("Song genre", { exact: true }).fill("jazz");
    await page.getByRole("button", { name: "Add song" }).click();
    await page.getByText(/^Not saved: .*200/).waitFor();
    await syncState(page, "Synced");
    expect(await violations(page)).toEqual([]);
    await page.getByRole("button", { name: `Dismiss note on ${"L".repeat(201)}` }).click();
    await page.getByText("No songs yet: add one below.").waitFor();
    await page.context().close();
  });
});

describe("featured playlists, edited by their creator only", { timeout: 240_000 }, () => {
  it("shows another editor's featured playlist without rename or delete", async () => {
    const first = await open();
    await becomeEditor(first, unique("curator-a"));
    await createFeatured(first, "First's pick");
    await first.context().close();

    const page = await open();
    await becomeEditor(page, unique("curator-b"));
    await createFeatured(page, "Second's pick");
    await page.getByText("First's pick").waitFor();
    // The other editor's: shown, not editable (the API would answer 403 not_featured_creator).
    await expect(page.getByLabel("Name of First's pick").count()).resolves.toBe(0);
    await expect(page.getByRole("button", { name: "Rename First's pick" }).count()).resolves.toBe(
      0,
    );
    await expect(
      page.getByRole("button", { name: "Delete featured First's pick" }).count(),
    ).resolves.toBe(0);
    // Their own: editable.
    await expect(page.getByRole("button", { name: "Rename Second's pick" }).count()).resolves.toBe(
      1,
    );
    await page.context().close();
  });
});

describe("Lighthouse on every screen", { timeout: 300_000 }, () => {
  /** Lighthouse's accessibility and best-practices scores (0-100) of each screen, as it is now. */
  async function scores(page: Page, marker: string, steps: () => AsyncGenerator<string>) {
    // Lighthouse drives Puppeteer: it attaches to the same Chromium, to the page of `marker`.
    const devtools = await puppeteer.connect({
      browserURL: `http://127.0.0.1:${debuggingPort}`,
      defaultViewport: null,
    });
    try {
      const target = (await devtools.pages()).find((p) => p.url().includes(marker));
      if (!target) throw new Error(`no page at ${page.url()} among Chromium's`);
      // Snapshots audit the page in place (the screens are app state, not URLs).
      const flow = await startFlow(target, {
        config: {
          extends: "lighthouse:default",
          settings: { onlyCategories: ["accessibility", "best-practices"] },
        },
      });
      for await (const name of steps()) await flow.snapshot({ name });
      const result: FlowResult = await flow.createFlowResult();
      return Object.fromEntries(
        result.steps.map((step) => {
          const { accessibility, "best-practices": practices } = step.lhr.categories;
          const failed = Object.values(step.lhr.audits)
            .filter((a) => a.scoreDisplayMode === "binary" && a.score === 0)
            .map((a) => a.id);
          return [
            step.name,
            {
              accessibility: Math.round((accessibility?.score ?? 0) * 100),
              bestPractices: Math.round((practices?.score ?? 0) * 100),
              failed,
            },
          ];
        }),
      );
    } finally {
      await devtools.disconnect();
    }
  }

  for (const viewport of Object.keys(VIEWPORTS) as (keyof typeof VIEWPORTS)[]) {
    it(`scores accessibility and best practices at least 95 at the ${viewport}'s size`, async () => {
      const page = await open(viewport);
      const marker = `lighthouse-${viewport}`;
      await page.goto(`${stack.appUrl}/?${marker}`);
      await page.getByRole("button", { name: "Log in" }).waitFor();
      const userId = unique(`lh-${viewport}`);
      const found = await scores(page, marker, async function* () {
        yield "login";
        await becomeEditor(page, userId);
        await createFeatured(page, `Lighthouse ${viewport}`);
        for (const screen of ["Home", "Library", "Featured", "Settings"]) {
          await go(page, screen);
          await settled(page);
          yield screen;
        }
      });
      console.log(`Lighthouse at the ${viewport}'s size: ${JSON.stringify(found)}`);
      for (const [screen, { accessibility, bestPractices }] of Object.entries(found)) {
        expect(accessibility, `${screen}: accessibility`).toBeGreaterThanOrEqual(95);
        expect(bestPractices, `${screen}: best practices`).toBeGreaterThanOrEqual(95);
      }
      expect(Object.keys(found)).toEqual(["login", "Home", "Library", "Featured", "Settings"]);
      await page.context().close();
    });
  }
});
