import { describe, expect, it } from "vitest";
import { emptyProfile, type Profile } from "../../../../lib/db/profiles.ts";
import { loginChanges, loginResult } from "../../../../lib/domain/postLogin.ts";

function profile(fields: Partial<Profile>): Profile {
  return { ...emptyProfile("auth0|u"), version: 3, ...fields };
}

describe("loginChanges (the seed's rules, fixed)", () => {
  it('gives a first-time user the display name "user"', () => {
    expect(loginChanges(profile({}), 100)?.userMetadata).toEqual({ displayName: "user" });
  });

  it("keeps a chosen display name", () => {
    const chosen = profile({ userMetadata: { displayName: "J-vald3z" } });
    expect(loginChanges(chosen, 100)).toBeUndefined();
  });

  it("grants playlist_editor at exactly the threshold, keeping other roles", () => {
    const p = profile({
      userMetadata: { displayName: "x" },
      appMetadata: { plan: "premium", roles: ["beta"] },
      totalPlays: 100,
    });
    expect(loginChanges(p, 100)?.appMetadata).toEqual({
      plan: "premium",
      roles: ["beta", "playlist_editor"],
    });
  });

  it("does not grant it one play short", () => {
    expect(
      loginChanges(profile({ userMetadata: { displayName: "x" }, totalPlays: 99 }), 100),
    ).toBeUndefined();
  });

  it("removes only playlist_editor below the threshold (the seed wiped every role)", () => {
    const p = profile({
      userMetadata: { displayName: "x" },
      appMetadata: { roles: ["admin", "playlist_editor", "beta"] },
      totalPlays: 10,
    });
    expect(loginChanges(p, 100)?.appMetadata).toEqual({ roles: ["admin", "beta"] });
  });

  it("changes nothing for an editor who still qualifies (idempotent)", () => {
    const p = profile({
      userMetadata: { displayName: "x" },
      appMetadata: { roles: ["playlist_editor"] },
      totalPlays: 500,
    });
    expect(loginChanges(p, 100)).toBeUndefined();
  });

  it("treats malformed stored roles as none instead of failing the login", () => {
    const p = profile({
      userMetadata: { displayName: "x" },
      appMetadata: { roles: "playlist_editor" },
      totalPlays: 0,
    });
    expect(loginChanges(p, 100)).toBeUndefined();
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
