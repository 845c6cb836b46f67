import { describe, expect, it } from "vitest";
import { ConfigError, readConfig } from "../../../lib/config.ts";

const complete = {
  AUTH_ISSUER: "https://tenant.auth0.com/",
  AUTH_AUDIENCE: "https://api.music.example.com",
  CURSOR_SECRET: "s".repeat(32),
  PROFILES_TABLE: "p",
  SONGS_TABLE: "s",
  PLAYLISTS_TABLE: "pl",
  FEATURED_TABLE: "f",
  COUNTERS_TABLE: "c",
  IDEMPOTENCY_TABLE: "i",
  RATE_LIMITS_TABLE: "r",
};

describe("readConfig", () => {
  it("derives the JWKS URI from the issuer as Auth0 publishes it", () => {
    expect(readConfig(complete).jwksUri).toBe("https://tenant.auth0.com/.well-known/jwks.json");
  });
  it("keeps the issuer exactly, trailing slash included", () => {
    expect(readConfig(complete).authIssuer).toBe("https://tenant.auth0.com/");
  });
  it("applies the contract's defaults", () => {
    const config = readConfig(complete);
    expect(config.claimsNamespace).toBe("https://music.example.com/");
    expect(config.playlistEditorMinPlays).toBe(100);
    expect(config.playCooldownSeconds).toBe(30);
    expect(config.maxSongsPerUser).toBe(10_000);
    expect(config.maxPlaylistsPerUser).toBe(1_000);
    expect(config.maxFeaturedPerEditor).toBe(50);
    expect(config.dynamodbEndpoint).toBeUndefined();
    expect(config.dynamodbConnectTimeoutMs).toBe(500);
    expect(config.dynamodbRequestTimeoutMs).toBe(1_500);
  });
  it.each(["AUTH_ISSUER", "AUTH_AUDIENCE", "PROFILES_TABLE"])(
    "fails fast naming a missing %s",
    (name) => {
      expect(() => readConfig({ ...complete, [name]: "" })).toThrow(
        new ConfigError(`Environment variable ${name} is required`),
      );
    },
  );
  it("reads the cursor secret from SSM when deployed, from CURSOR_SECRET locally, never neither", () => {
    const { CURSOR_SECRET: _, ...deployed } = complete;
    expect(
      readConfig({ ...deployed, CURSOR_SECRET_PARAMETER: "/music/prod/cursor-secret" })
        .cursorSecret,
    ).toEqual({ parameter: "/music/prod/cursor-secret" });
    expect(readConfig(complete).cursorSecret).toEqual({ value: complete.CURSOR_SECRET });
    expect(() => readConfig(deployed)).toThrow("CURSOR_SECRET_PARAMETER");
    expect(() => readConfig({ ...deployed, CURSOR_SECRET_PARAMETER: "cursor-secret" })).toThrow(
      "starting with /",
    );
    expect(() => readConfig({ ...complete, CURSOR_SECRET: "short" })).toThrow("32 characters");
  });
  it("configures the Management API client only with AUTH0_MGMT_CLIENT_ID, its secret from SSM or given", () => {
    expect(readConfig(complete).managementApi).toBeUndefined();
    const withId = { ...complete, AUTH0_MGMT_CLIENT_ID: "m2m" };
    expect(
      readConfig({
        ...withId,
        AUTH0_MGMT_CLIENT_SECRET_PARAMETER: "/music/prod/auth0-mgmt-client-secret",
      }).managementApi,
    ).toEqual({ clientId: "m2m", secret: { parameter: "/music/prod/auth0-mgmt-client-secret" } });
    expect(readConfig({ ...withId, AUTH0_MGMT_CLIENT_SECRET: "shh" }).managementApi).toEqual({
      clientId: "m2m",
      secret: { value: "shh" },
    });
    expect(() => readConfig(withId)).toThrow("AUTH0_MGMT_CLIENT_SECRET_PARAMETER");
    expect(() => readConfig({ ...withId, AUTH0_MGMT_CLIENT_SECRET_PARAMETER: "no-slash" })).toThrow(
      ConfigError,
    );
  });
  it("warms the container up on init only when INIT_WARM_UP is true", () => {
    expect(readConfig(complete).warmUpOnInit).toBe(false);
    expect(readConfig({ ...complete, INIT_WARM_UP: "true" }).warmUpOnInit).toBe(true);
    expect(() => readConfig({ ...complete, INIT_WARM_UP: "no" })).toThrow(ConfigError);
  });
  it.each(["0", "-5", "ten", "1.5"])("refuses PLAYLIST_EDITOR_MIN_PLAYS=%s", (value) => {
    expect(() => readConfig({ ...complete, PLAYLIST_EDITOR_MIN_PLAYS: value })).toThrow(
      ConfigError,
    );
  });
  it("accepts PLAY_COOLDOWN_SECONDS=0 (no cooldown) and refuses a negative one", () => {
    expect(readConfig({ ...complete, PLAY_COOLDOWN_SECONDS: "0" }).playCooldownSeconds).toBe(0);
    expect(() => readConfig({ ...complete, PLAY_COOLDOWN_SECONDS: "-1" })).toThrow(ConfigError);
  });
  it("reads MAX_FEATURED_PER_EDITOR, at least 1", () => {
    expect(readConfig({ ...complete, MAX_FEATURED_PER_EDITOR: "3" }).maxFeaturedPerEditor).toBe(3);
    expect(() => readConfig({ ...complete, MAX_FEATURED_PER_EDITOR: "0" })).toThrow(ConfigError);
  });
  it("refuses an issuer that is not a URL", () => {
    expect(() => readConfig({ ...complete, AUTH_ISSUER: "tenant" })).toThrow(ConfigError);
  });
  it("refuses a DynamoDB timeout that is not a positive integer", () => {
    expect(() => readConfig({ ...complete, DYNAMODB_REQUEST_TIMEOUT_MS: "soon" })).toThrow(
      ConfigError,
    );
  });
});
