/**
 * Account deletion reaching Auth0 (CONTRACT: Data rights), interrupted between the API's erase
 * and the Management API call: the tenant is not there the first time (nothing listens on its
 * port), so the DELETE answers 503 with Retry-After after erasing the API's data; the hook
 * refuses the user meanwhile, directly and over HTTP; once the tenant answers, the next DELETE
 * finishes: the Auth0 user is deleted, the hook serves the user id again as a new user.
 *
 * This file's functions trust an issuer on a port of its own (AUTH_ISSUER, set before they are
 * loaded), with the test keys from the suite's issuer (AUTH_JWKS_URI): the Management API lives
 * at `${AUTH_ISSUER}api/v2/`, so the issuer's port is where the outage is made.
 */
import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import { afterAll, describe, expect, it } from "vitest";
import { serveIssuer } from "../../../scripts/local/oidc-issuer/serve.ts";
import { freePort } from "../../../scripts/local/ports.ts";

const suiteIssuer = process.env.AUTH_ISSUER as string;
const port = await freePort();
const issuer = `http://127.0.0.1:${port}/`;
const management = {
  clientId: "test-management-api",
  clientSecret: randomBytes(24).toString("base64url"),
  scope: "delete:users",
};
Object.assign(process.env, {
  AUTH_ISSUER: issuer,
  AUTH_JWKS_URI: `${suiteIssuer}.well-known/jwks.json`,
  AUTH0_MGMT_CLIENT_ID: management.clientId,
  AUTH0_MGMT_CLIENT_SECRET: management.clientSecret,
});
const { handler: users } = await import("../../../functions/users.ts");
const { handler: postLogin } = await import("../../../functions/postLogin.ts");
const { handler: songs } = await import("../../../functions/songs.ts");
const { handler: genres } = await import("../../../functions/getFavGenre.ts");
const { handler: displayName } = await import("../../../functions/displayName.ts");
const { getProfile } = await import("../../../lib/db/profiles.ts");
const { deletionUnderWay } = await import("../../../lib/db/counters/deletion.ts");
const { asFunction, httpEvent, invoke, lambdaContext } = await import("../../helpers/invoke.ts");
const { storeProfile } = await import("../../helpers/profiles.ts");
const { machineTokenFor, pastTokenCutOff, testSigningKey, tokenFor, uniqueUser } = await import(
  "../../helpers/tokens.ts"
);

let tenant: Server | undefined;
afterAll(() => tenant?.close());

const deleteUser = async (userId: string, token: string, headers: Record<string, string> = {}) =>
  invoke(
    users,
    httpEvent("deleteUser", {
      token,
      rawPath: `/users/${encodeURIComponent(userId)}`,
      pathParameters: { userId },
      headers,
    }),
  );

const loginDirect = (userId: string) =>
  asFunction("postLogin", () =>
    postLogin({ user: { user_id: userId, email: "l@example.com", name: "L" } }, lambdaContext()),
  ) as Promise<Record<string, unknown>>;

const loginOverHttp = async (userId: string) =>
  invoke(
    postLogin,
    httpEvent("runPostLogin", {
      token: await machineTokenFor("auth0-action", "run:post_login"),
      body: { user: { user_id: userId, email: "l@example.com", name: "L" } },
    }),
  );

describe("an account deletion interrupted before Auth0 answered", () => {
  it("answers 503, keeps refusing the user's logins, and the next DELETE finishes it", async () => {
    const userId = uniqueUser("google-oauth2");
    await storeProfile(userId, {
      user_metadata: { displayName: "Leaving" },
      app_metadata: { roles: ["beta_tester"] },
      total_plays: 3,
      version: 4,
    });
    const token = await tokenFor(userId);

    // Nothing listens at the tenant: the API's data goes, the Auth0 user cannot.
    const first = await deleteUser(userId, token, { "if-match": '"4"' });
    expect(first.statusCode).toBe(503);
    expect(Number(first.headers["retry-after"])).toBeGreaterThan(0);
    expect(first.body).toMatchObject({ statusCode: 503, errorCode: "temporarily_unavailable" });
    // The profile is erased down to its mark, which refuses every write until the end.
    expect(await getProfile(userId)).toMatchObject({
      userMetadata: {},
      appMetadata: {},
      deleting: true,
    });
    expect(await deletionUnderWay(userId)).toBe(true);
    const song = await invoke(
      songs,
      httpEvent("createSong", { token, body: { songName: "Back", genre: "jazz" } }),
    );
    expect(song.statusCode).toBe(409);
    expect(song.body.errorCode).toBe("account_being_deleted");
    const genre = await invoke(
      genres,
      httpEvent("setFavouriteGenre", { token, body: { genre: "pop" } }),
    );
    expect(genre.statusCode).toBe(409);
    expect(genre.body.errorCode).toBe("account_being_deleted");
    const name = await invoke(
      displayName,
      httpEvent("setDisplayName", { token, body: { displayName: "Back" } }),
    );
    expect(name.statusCode).toBe(409);
    expect(name.body.errorCode).toBe("account_being_deleted");

    // A login now would recreate the profile: refused, directly and over HTTP.
    await expect(loginDirect(userId)).resolves.toMatchObject({
      statusCode: 409,
      errorCode: "account_being_deleted",
    });
    const overHttp = await loginOverHttp(userId);
    expect(overHttp.statusCode).toBe(409);
    expect(overHttp.body.errorCode).toBe("account_being_deleted");
    expect(await getProfile(userId)).toMatchObject({ userMetadata: {}, deleting: true });

    // The tenant is back: it knows the user (its app_metadata mirror).
    const forgotten: string[] = [];
    tenant = await serveIssuer(port, {
      issuer,
      key: await testSigningKey(),
      audience: process.env.AUTH_AUDIENCE as string,
      management: {
        client: management,
        forget: (id) => {
          forgotten.push(id);
          return id === userId;
        },
      },
    });
    // The If-Match was checked when the deletion began: the profile it named is gone now.
    const second = await deleteUser(userId, token, { "if-match": '"4"' });
    expect(second.statusCode).toBe(204);
    expect(forgotten).toEqual([userId]);
    expect(await deletionUnderWay(userId)).toBe(false);
    expect(await getProfile(userId)).toBeUndefined();

    // The user id logs in again as a new user: nothing of the old account came back.
    const again = await loginDirect(userId);
    expect(again).toMatchObject({
      user_metadata: { displayName: "user" },
      app_metadata: {},
      claims: { "https://music.example.com/roles": [] },
    });

    // The token of the deleted account is refused; a repeat with a new one finds no Auth0 user
    // (404 there): still done.
    expect((await deleteUser(userId, token)).statusCode).toBe(401);
    await pastTokenCutOff();
    expect((await deleteUser(userId, await tokenFor(userId))).statusCode).toBe(204);
    expect(forgotten).toEqual([userId, userId]);
  });

  it("lets an operator finish a deletion the user began, though the profile is gone", async () => {
    const userId = uniqueUser();
    await storeProfile(userId, { user_metadata: { displayName: "Gone" } });
    tenant?.closeAllConnections();
    tenant?.close();
    tenant = undefined;
    expect((await deleteUser(userId, await tokenFor(userId))).statusCode).toBe(503);
    tenant = await serveIssuer(port, {
      issuer,
      key: await testSigningKey(),
      audience: process.env.AUTH_AUDIENCE as string,
      management: { client: management, forget: () => true },
    });
    const operator = await machineTokenFor("operator-console", "delete:users");
    expect((await deleteUser(userId, operator)).statusCode).toBe(204);
    // Done: an operator's DELETE of a user with nothing stored is 404 again.
    expect((await deleteUser(userId, operator)).statusCode).toBe(404);
  });
});
