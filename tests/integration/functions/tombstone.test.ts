/**
 * An operator's decision outlives the user's own account deletion (CONTRACT: Data rights): the
 * `denied_roles` of an erased account (nothing else of it) apply again when the user id returns,
 * so deleting one's account and farming plays again does not earn a denied role back.
 */
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { handler as displayName } from "../../../functions/displayName.ts";
import { handler as postLogin } from "../../../functions/postLogin.ts";
import { handler as users } from "../../../functions/users.ts";
import { db } from "../../../lib/db/client.ts";
import { COUNTERS_TABLE } from "../../../lib/db/counters/table.ts";
import { tombstoneKey } from "../../../lib/db/counters/tombstone.ts";
import { getUserCounters } from "../../../lib/db/counters/user.ts";
import { getProfile } from "../../../lib/db/profiles.ts";
import { asFunction, httpEvent, invoke, lambdaContext } from "../../helpers/invoke.ts";
import { storeProfile } from "../../helpers/profiles.ts";
import { machineTokenFor, pastTokenCutOff, tokenFor, uniqueUser } from "../../helpers/tokens.ts";

const ROLES = "https://music.example.com/roles";

const login = (userId: string) =>
  asFunction("postLogin", () =>
    postLogin({ user: { user_id: userId, email: "f@example.com", name: "F" } }, lambdaContext()),
  ) as Promise<{ app_metadata: Record<string, unknown>; claims: Record<string, unknown> }>;

const deleteSelf = async (userId: string) => {
  // A token issued after any earlier erasure of this user id, whose cut-off refuses older ones.
  await pastTokenCutOff();
  return invoke(
    users,
    httpEvent("deleteUser", {
      token: await tokenFor(userId),
      rawPath: `/users/${encodeURIComponent(userId)}`,
      pathParameters: { userId },
    }),
  );
};

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

describe("the tombstone of an erased account", () => {
  const tombstoneOf = async (userId: string) =>
    (
      await db.send(
        new GetCommand({
          TableName: COUNTERS_TABLE,
          Key: tombstoneKey(userId),
          ConsistentRead: true,
        }),
      )
    ).Item;
  const lift = async (userId: string) =>
    invoke(
      users,
      httpEvent("updateUser", {
        token: await machineTokenFor("ops", "update:users_app_metadata"),
        rawPath: `/users/${encodeURIComponent(userId)}`,
        pathParameters: { userId },
        body: { app_metadata: { denied_roles: null } },
      }),
    );
  async function deniedAndErased(userId: string) {
    await storeProfile(userId, {
      app_metadata: { denied_roles: ["playlist_editor"] },
      total_plays: 150,
    });
    expect((await deleteSelf(userId)).statusCode).toBe(204);
    expect(await tombstoneOf(userId)).toBeDefined();
  }

  it("goes once the login copies its denials: an operator who lifts them later is not overruled", async () => {
    const userId = uniqueUser();
    await deniedAndErased(userId);
    await storeProfile(userId, { total_plays: 150 });
    expect((await login(userId)).claims[ROLES]).toEqual([]);
    expect(await tombstoneOf(userId)).toBeUndefined();

    expect((await lift(userId)).statusCode).toBe(200);
    const later = await login(userId);
    expect(later.claims[ROLES]).toEqual(["playlist_editor"]);
    expect(later.app_metadata).toEqual({ roles: ["playlist_editor"] });
  });

  it("is not left behind by a later erasure with no denials", async () => {
    const userId = uniqueUser();
    await deniedAndErased(userId);
    await storeProfile(userId, { total_plays: 150 });
    await login(userId);
    expect((await lift(userId)).statusCode).toBe(200);
    expect((await deleteSelf(userId)).statusCode).toBe(204);
    expect(await tombstoneOf(userId)).toBeUndefined();
    await storeProfile(userId, { total_plays: 150 });
    expect((await login(userId)).claims[ROLES]).toEqual(["playlist_editor"]);
  });

  it("survives an erasure of a profile it was never copied into (written without a login)", async () => {
    const userId = uniqueUser();
    await deniedAndErased(userId);
    // No login since (the old tokens are cut off; a new one whose login never reached the
    // hook): it writes a new profile, then erases it again.
    await pastTokenCutOff();
    const written = await invoke(
      displayName,
      httpEvent("setDisplayName", {
        token: await tokenFor(userId),
        body: { displayName: "Back again" },
      }),
    );
    expect(written.statusCode).toBe(200);
    expect((await deleteSelf(userId)).statusCode).toBe(204);
    expect(await tombstoneOf(userId)).toMatchObject({ denied_roles: ["playlist_editor"] });
    await storeProfile(userId, { total_plays: 150 });
    expect((await login(userId)).claims[ROLES]).toEqual([]);
  });
});
