import { afterEach, describe, expect, it } from "vitest";
import { localSettings } from "../../../scripts/local/settings.ts";

/**
 * The local tenant's refresh-token lifetimes as `npm start` reads them (docs/local-stack.md: Run it locally):
 * Auth0's defaults, or whole seconds, the idle one never above the absolute one.
 */
const NAMES = ["REFRESH_TOKEN_IDLE_SECONDS", "REFRESH_TOKEN_LIFETIME_SECONDS", "LOCAL_STACK_FILE"];
const saved = Object.fromEntries(NAMES.map((name) => [name, process.env[name]]));
afterEach(() => {
  for (const name of NAMES) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

/** The settings with these variables, and no running stack's record read. */
function withEnv(env: Record<string, string>) {
  process.env.LOCAL_STACK_FILE = "off";
  delete process.env.REFRESH_TOKEN_IDLE_SECONDS;
  delete process.env.REFRESH_TOKEN_LIFETIME_SECONDS;
  Object.assign(process.env, env);
  return () => localSettings().refreshTokens;
}

describe("refresh-token lifetimes", () => {
  it("default to Auth0's: 15 days idle, 30 days in all", () => {
    expect(withEnv({})()).toEqual({ idleSeconds: 1_296_000, absoluteSeconds: 2_592_000 });
  });

  it("take whole seconds from the environment", () => {
    const read = withEnv({
      REFRESH_TOKEN_IDLE_SECONDS: "60",
      REFRESH_TOKEN_LIFETIME_SECONDS: "120",
    });
    expect(read()).toEqual({ idleSeconds: 60, absoluteSeconds: 120 });
  });

  it("refuse what is not a whole positive number, or an idle lifetime above the absolute one", () => {
    expect(withEnv({ REFRESH_TOKEN_IDLE_SECONDS: "1.5" })).toThrow(
      'REFRESH_TOKEN_IDLE_SECONDS must be a whole number of seconds (at least 1), got "1.5"',
    );
    expect(withEnv({ REFRESH_TOKEN_LIFETIME_SECONDS: "0" })).toThrow(/at least 1/);
    expect(
      withEnv({ REFRESH_TOKEN_IDLE_SECONDS: "200", REFRESH_TOKEN_LIFETIME_SECONDS: "100" }),
    ).toThrow(
      "REFRESH_TOKEN_IDLE_SECONDS (200) must not exceed REFRESH_TOKEN_LIFETIME_SECONDS (100)",
    );
  });
});
