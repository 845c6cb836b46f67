/**
 * An operator's decision outlives the user's own account deletion (CONTRACT: Data rights): the
 * `denied_roles` of an erased account (nothing else of it) apply again when the user id returns,
 * so deleting one's account and farming plays again does not earn a denied role back.
 */
import { describe, expect, it } from "vitest";
import { handler as postLogin } from "../../../functions/postLogin.ts";
import { handler as users } from "../../../functions/users.ts";
import { getUserCounters } from "../../../lib/db/counters.ts";
import { getProfile } from "../../../lib/db/profiles.ts";
import { asFunction, httpEvent, invoke, lambdaContext } from "../../helpers/invoke.ts";
import { storeProfile } from "../../helpers/profiles.ts";
import { tokenFor, uniqueUser } from "../../helpers/tokens.ts";

const ROLES = "https://music.example.com/roles";

const login = (userId: string) =>
  asFunction("postLogin", () =>
    postLogin({ user: { user_id: userId, email: "f@example.com", name: "F" } }, lambdaContext()),
  ) as Promise<{ app_metadata: Record<string, unknown>; claims: Record<string, unknown> }>;

const deleteSelf = async (userId: string) =>
  invoke(
    users,
    httpEvent("users-delete", {
      token: await tokenFor(userId),
      rawPath: `/users/${encodeURIComponent(userId)}`,
      pathParameters: { userId },
    }),
  );

describe("an operator's denied roles", () => {
  it("survive the user's deletion of their account: the farmed role is not granted again", async () => {
    const userId = uniqueUser();
    await storeProfile(userId, {
      user_metadata: { displayName: "Farmer" },
      app_metadata: { plan: "premium", roles: ["beta_tester"], denied_roles: ["playlist_editor"] },
      total_plays: 150,
    });
    expect((await deleteSelf(userId)).statusCode).toBe(204);
    expect(await getProfile(userId)).toBeUndefined();

    // The same user id returns and farms the plays again.
    await storeProfile(userId, { total_plays: 150 });
    const result = await login(userId);
    expect(result.claims[ROLES]).toEqual([]);
    // Only the denial came back; the rest of the erased account did not.
    expect(result.app_metadata).toEqual({ denied_roles: ["playlist_editor"] });
    expect((await getProfile(userId))?.appMetadata).toEqual({ denied_roles: ["playlist_editor"] });
  });

  it("leave nothing behind for an account an operator never restricted", async () => {
    const userId = uniqueUser();
    await storeProfile(userId, { app_metadata: { roles: ["beta_tester"] }, total_plays: 150 });
    expect((await deleteSelf(userId)).statusCode).toBe(204);
    expect((await getUserCounters(userId)).totalPlays).toBe(0);
    await storeProfile(userId, { total_plays: 150 });
    const result = await login(userId);
    expect(result.claims[ROLES]).toEqual(["playlist_editor"]);
    expect(result.app_metadata).toEqual({ roles: ["playlist_editor"] });
  });
});
