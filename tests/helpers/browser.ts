import { existsSync, mkdirSync, statSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type Browser, type CDPSession, chromium, type Page } from "playwright-core";
import { ROOT } from "../../scripts/local/serverless-config.ts";

/** Debian's Chromium (`apt-get install -y chromium`); Playwright's own download cannot run here. */
const SYSTEM_CHROMIUM = "/usr/bin/chromium";
/** Where browser tests leave their screenshots (not committed). */
const SCREENSHOTS = join(ROOT, "test-output", "screenshots");

interface Executable {
  executablePath: string;
  /** The browser process's environment, when it needs more than this process's. */
  env?: Record<string, string>;
  /** Said in an error, so that a failed launch names the browser it tried. */
  origin: string;
}

/**
 * The Chromium the browser tests drive: CHROMIUM_PATH when set, else Debian's at
 * /usr/bin/chromium, else (Linux x64 only) the one shipped inside the npm package
 * `@sparticuz/chromium` (a devDependency: `npm ci` brings it, no download). CHROMIUM_FROM_PACKAGE=1
 * takes the package's even where the system has one (how a machine without Chromium is tried).
 */
async function chromiumExecutable(): Promise<Executable> {
  const fromPackage = process.env.CHROMIUM_FROM_PACKAGE === "1";
  const chosen = process.env.CHROMIUM_PATH;
  if (chosen && !fromPackage) {
    if (!existsSync(chosen))
      throw new Error(`CHROMIUM_PATH is ${chosen}, and there is no file there`);
    return { executablePath: chosen, origin: `CHROMIUM_PATH (${chosen})` };
  }
  if (!fromPackage && existsSync(SYSTEM_CHROMIUM)) {
    return { executablePath: SYSTEM_CHROMIUM, origin: SYSTEM_CHROMIUM };
  }
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new Error(
      `No Chromium for the browser tests: none at ${SYSTEM_CHROMIUM}, and the npm package @sparticuz/chromium carries one for Linux x64 only (this is ${process.platform} ${process.arch}). Install Chrome or Chromium and set CHROMIUM_PATH to its executable (docs/testing.md, Browser tests).`,
    );
  }
  return packageChromium();
}

/**
 * @sparticuz/chromium's browser (a headless shell built for Lambda): its brotli archives are
 * decompressed on first use to the temporary folder (`chromium`, `fonts`, `al2023`; kept for the
 * next runs), with no install script (npm 11 runs none of a dependency's). It runs with the
 * libraries it ships (NSS, NSPR, expat: what a machine without a browser lacks) and its own
 * fonts, as on Lambda. Test files launching at once take turns decompressing: the package writes
 * in place, and another process could otherwise start a half-written binary.
 */
async function packageChromium(): Promise<Executable> {
  const { default: lambdaChromium, inflate } = await import("@sparticuz/chromium");
  const bin = join(
    dirname(createRequire(import.meta.url).resolve("@sparticuz/chromium")),
    "..",
    "bin",
  );
  const [executablePath, libraries] = await takingTurns(
    join(tmpdir(), "sparticuz-chromium.lock"),
    () => Promise.all([lambdaChromium.executablePath(), inflate(join(bin, "al2023.tar.br"))]),
  );
  const inherited = process.env.LD_LIBRARY_PATH;
  return {
    executablePath,
    env: {
      ...(process.env as Record<string, string>),
      LD_LIBRARY_PATH: [join(libraries, "lib"), ...(inherited ? [inherited] : [])].join(":"),
      // Written beside the binary by executablePath(): the fonts the package ships.
      FONTCONFIG_PATH: join(tmpdir(), "fonts"),
    },
    origin: `@sparticuz/chromium (${executablePath})`,
  };
}

/**
 * Runs `work` holding a lock between processes (a folder: its creation is atomic). A lock left
 * by a process that died is taken over after two minutes.
 */
async function takingTurns<T>(lock: string, work: () => Promise<T>): Promise<T> {
  const giveUp = Date.now() + 300_000;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const since = Date.now() - (statSafe(lock) ?? Date.now());
      if (since > 120_000) await rm(lock, { recursive: true, force: true });
      else if (Date.now() > giveUp) throw new Error(`${lock} held for over 5 minutes`);
      else await sleep(250);
    }
  }
  try {
    return await work();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

const statSafe = (path: string) => {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
};

/**
 * Third-party cookies blocked, as Safari and Chrome's tracking protection block them: Chrome's
 * `--test-third-party-cookie-phaseout` does it in Debian's Chromium, and the package's headless
 * shell ignores it (a frame of another site kept its cookie); there DevTools' cookie controls do
 * it, set on each page a context opens before it loads anything.
 */
function blockingThirdPartyCookies(browser: Browser): Browser {
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (options) => {
    const context = await newContext(options);
    const sessions: CDPSession[] = [];
    let offline = false;
    // Network emulation is per DevTools session: context.setOffline sets Playwright's, and the
    // page stayed online through this one (the offline tests failed); so it is set here too.
    const emulate = (session: CDPSession) =>
      session.send("Network.emulateNetworkConditions", {
        offline,
        latency: 0,
        downloadThroughput: -1,
        uploadThroughput: -1,
      });
    const setOffline = context.setOffline.bind(context);
    context.setOffline = async (value) => {
      offline = value;
      await setOffline(value);
      await Promise.all(sessions.map(emulate));
    };
    const newPage = context.newPage.bind(context);
    context.newPage = async () => {
      const page = await newPage();
      // The session stays attached: the controls last as long as it does.
      const session = await context.newCDPSession(page);
      sessions.push(session);
      await session.send("Network.enable");
      if (offline) await emulate(session);
      // The two switches that keep Chrome's exceptions (its metadata and heuristics grants) off
      // are newer than playwright-core's protocol types; without them the cookie stays.
      await session.send("Network.setCookieControls", {
        enableThirdPartyCookieRestriction: true,
        ...{ disableThirdPartyCookieMetadata: true, disableThirdPartyCookieHeuristics: true },
      });
      return page;
    };
    return context;
  };
  return browser;
}

/**
 * `extraArgs`: e.g. `--remote-debugging-port=N`, for Lighthouse to reach the same Chromium.
 * `thirdPartyCookies: "blocked"`: every page of a context the browser opens blocks them.
 */
export async function launchChromium(
  extraArgs: string[] = [],
  options: { thirdPartyCookies?: "blocked" } = {},
): Promise<Browser> {
  const { executablePath, env, origin } = await chromiumExecutable();
  const blocked = options.thirdPartyCookies === "blocked";
  let browser: Browser;
  try {
    browser = await chromium.launch({
      executablePath,
      ...(env ? { env } : {}),
      // --no-sandbox: CI runs as root. The rest keep Chromium off the network it cannot reach.
      // None of @sparticuz/chromium's own arguments (chromium.args), made for Lambda: its
      // --single-process and --no-zygote get round Lambda's sandbox (prctl), and its
      // --disable-web-security would blind web-app.test.ts's CORS checks.
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        ...(blocked ? ["--test-third-party-cookie-phaseout"] : []),
        ...extraArgs,
      ],
    });
  } catch (error) {
    throw new Error(`Chromium from ${origin} did not start: ${(error as Error).message}`);
  }
  // Only where the flag is not enough: Debian's Chromium blocks them with it alone.
  return blocked && origin.startsWith("@sparticuz/chromium")
    ? blockingThirdPartyCookies(browser)
    : browser;
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
