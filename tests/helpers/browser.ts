import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { ROOT } from "../../scripts/local/serverless-config.ts";

/** Debian's Chromium (`apt-get install -y chromium`); Playwright's own download cannot run here. */
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
/** Where browser tests leave their screenshots (not committed). */
const SCREENSHOTS = join(ROOT, "test-output", "screenshots");

/** `extraArgs`: e.g. `--remote-debugging-port=N`, for Lighthouse to reach the same Chromium. */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `No Chromium at ${CHROMIUM}: install Debian's (apt-get install -y chromium) or set CHROMIUM_PATH`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    // --no-sandbox: CI runs as root. The rest keep Chromium off the network it cannot reach.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      ...extraArgs,
    ],
  });
}

/** A phone-sized page (the seed's app is a mobile app). */
export async function phone(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  return context.newPage();
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path });
  return path;
}
