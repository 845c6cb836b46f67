import { describe, expect, it } from "vitest";
import { emptyProfile, type Profile } from "../../../../lib/db/profiles.ts";
import { loginChanges, loginResult } from "../../../../lib/domain/postLogin.ts";

function profile(fields: Partial<Profile>): Profile {
  return { ...emptyProfile("auth0|u"), version: 3, ...fields };
}
const changes = (p: Profile, totalPlays = 0) => loginChanges(p, totalPlays, 100);

describe("loginChanges (the seed's rules, fixed)", () => {
  it('gives a first-time user the display name "user"', () => {
    expect(changes(profile({}))?.userMetadata).toEqual({ displayName: "user" });
  });

  it("keeps a chosen display name", () => {
    const chosen = profile({ userMetadata: { displayName: "J-vald3z" } });
    expect(changes(chosen)).toBeUndefined();
  });

  it("grants playlist_editor at exactly the threshold, keeping other roles", () => {
    const p = profile({
      userMetadata: { displayName: "x" },
      appMetadata: { plan: "premium", roles: ["beta"] },
    });
    expect(changes(p, 100)?.appMetadata).toEqual({
      plan: "premium",
      roles: ["beta", "playlist_editor"],
    });
  });

  it("does not grant it one play short", () => {
    expect(changes(profile({ userMetadata: { displayName: "x" } }), 99)).toBeUndefined();
  });

  it("removes only playlist_editor below the threshold (the seed wiped every role)", () => {
    const p = profile({
      userMetadata: { displayName: "x" },
      appMetadata: { roles: ["admin", "playlist_editor", "beta"] },
    });
    expect(changes(p, 10)?.appMetadata).toEqual({ roles: ["admin", "beta"] });
  });

  it("changes nothing for an editor who still qualifies (idempotent)", () => {
    const p = profile({
      userMetadata: { displayName: "x" },
      appMetadata: { roles: ["playlist_editor"] },
    });
    expect(changes(p, 500)).toBeUndefined();
  });

  it("treats malformed stored roles as none instead of failing the login", () => {
    const p = profile({
      userMetadata: { displayName: "x" },
      appMetadata: { roles: "playlist_editor" },
    });
    expect(changes(p, 0)).toBeUndefined();
  });

  it("never grants a denied role, and removes it when held", () => {
    const denied = { roles: ["playlist_editor", "beta"], denied_roles: ["playlist_editor"] };
    const p = profile({ userMetadata: { displayName: "x" }, appMetadata: denied });
    expect(changes(p, 500)?.appMetadata).toEqual({ ...denied, roles: ["beta"] });
    const without = profile({
      userMetadata: { displayName: "x" },
      appMetadata: { denied_roles: ["playlist_editor"] },
    });
    expect(changes(without, 500)).toBeUndefined();
  });

  it("skips the default name when it would not fit, and still removes the role", () => {
    const filler = "x".repeat(32 * 1024 - '{"filler":""}'.length);
    const full = { filler };
    expect(JSON.stringify(full).length).toBe(32 * 1024);
    const p = profile({ userMetadata: full, appMetadata: { roles: ["playlist_editor"] } });
    const next = changes(p, 0);
    expect(next?.userMetadata).toEqual(full);
    expect(next?.appMetadata).toEqual({ roles: [] });
  });
});

describe("loginResult", () => {
  it("puts the stored roles under the claims namespace", () => {
    const p = profile({ appMetadata: { roles: ["playlist_editor"] } });
    expect(loginResult(p, "https://music.example.com/").claims).toEqual({
      "https://music.example.com/roles": ["playlist_editor"],
    });
  });
});
