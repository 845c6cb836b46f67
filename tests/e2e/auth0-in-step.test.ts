import { DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  loadOrCreateManagementClient,
  userAppMetadata,
  userUserMetadata,
} from "../../scripts/local/issuer.ts";
import { sduEvent } from "../../scripts/local/log-stream.ts";
import { loadTableDefinitions } from "../../scripts/local/serverless-config.ts";
import {
  LOCAL_TENANT,
  type RunningStack,
  stackHookToken,
  stackLogin,
  stackToken,
  startStack,
} from "../../scripts/local/stack.ts";
import { localClient } from "../../scripts/local/tables.ts";
import { call } from "../helpers/http.ts";
import { pastTokenCutOff, uniqueUser } from "../helpers/tokens.ts";

let stack: RunningStack;
let tables: Record<string, string>;
let db: DynamoDBDocumentClient;

beforeAll(async () => {
  stack = await startStack({ ...LOCAL_TENANT, PLAY_COOLDOWN_SECONDS: "0" });
  tables = Object.fromEntries(
    loadTableDefinitions("dev").map((d) => [d.logicalId, d.properties.TableName as string]),
  );
  db = DynamoDBDocumentClient.from(localClient(`http://127.0.0.1:${stack.dynamodbPort}`));
});
afterAll(async () => {
  db?.destroy();
  await stack?.stop();
});

const me = (userId: string) => `/users/${encodeURIComponent(userId)}`;

async function storedProfile(userId: string) {
  const { Item } = await db.send(
    new GetCommand({
      TableName: tables.ProfilesTable,
      Key: { user_id: userId },
      ConsistentRead: true,
    }),
  );
  return Item;
}

describe("tokens outlive nothing", { timeout: 120_000 }, () => {
  it("refuses every route (401) to a token issued before the account's deletion, and writes nothing", async () => {
    const userId = uniqueUser("google-oauth2");
    const token = await stackToken(stack, userId);
    expect(
      (await call(stack.baseUrl, "PUT", "/displayName", { token, body: { displayName: "Before" } }))
        .status,
    ).toBe(200);
    const song = await call(stack.baseUrl, "POST", "/songs", {
      token,
      body: { songName: "Bye", genre: "x" },
    });
    const playlist = await call(stack.baseUrl, "POST", "/playlists", {
      token,
      body: { name: "P", songIds: [song.body.songId] },
    });
    const profile = await call(stack.baseUrl, "GET", me(userId), { token });
    const deleted = await call(stack.baseUrl, "DELETE", me(userId), {
      token,
      headers: { "if-match": profile.headers.get("etag") as string },
    });
    expect(deleted.status).toBe(204);

    // One route of each function, reads and writes: all 401, with the Bearer challenge.
    const attempts: [string, string, unknown?][] = [
      ["PUT", "/displayName", { displayName: "After" }],
      ["GET", "/displayName"],
      ["PUT", "/genres/fav", { genre: "jazz" }],
      ["GET", "/genres/getFav"],
      ["POST", "/songs", { songName: "Again", genre: "x" }],
      ["GET", "/songs"],
      ["POST", "/playlists", { name: "Again" }],
      ["POST", `/playlists/${playlist.body.playlistId}/plays`],
      ["GET", "/playlists"],
      ["GET", "/playlists/getPlays"],
      ["GET", me(userId)],
      ["PATCH", me(userId), { user_metadata: { back: true } }],
      ["GET", `${me(userId)}/export`],
      ["DELETE", me(userId)],
    ];
    for (const [method, path, body] of attempts) {
      const answer = await call(stack.baseUrl, method, path, {
        token,
        ...(body === undefined ? {} : { body }),
      });
      expect([method, path, answer.status]).toEqual([method, path, 401]);
      expect(answer.body.errorCode).toBe("invalid_token");
      expect(answer.headers.get("www-authenticate")).toContain('error="invalid_token"');
    }
    // Nothing came back: no profile was recreated by the old token.
    expect(await storedProfile(userId)).toBeUndefined();

    // A login afterwards is a fresh account.
    await pastTokenCutOff();
    const fresh = await stackToken(stack, userId);
    const now = await call(stack.baseUrl, "GET", me(userId), { token: fresh });
    expect(now.status).toBe(200);
    expect(now.body.user_metadata).toEqual({});
    expect((await call(stack.baseUrl, "GET", "/songs", { token: fresh })).body.songs).toEqual([]);
    expect(
      (
        await call(stack.baseUrl, "PUT", "/displayName", {
          token: fresh,
          body: { displayName: "New" },
        })
      ).status,
    ).toBe(200);
    // The old token stays refused after the new account wrote.
    expect((await call(stack.baseUrl, "GET", "/displayName", { token })).status).toBe(401);
  });

  it("answers the hook 409 account_being_deleted during an interrupted deletion, before any limit", async () => {
    const userId = uniqueUser("auth0");
    // A deletion that stopped after its first step (as a Management API failure leaves it), and
    // the user's write budget spent: the deletion must be what the hook answers.
    await db.send(
      new PutCommand({
        TableName: tables.CountersTable,
        Item: { user_id: userId, counter_id: "deletion", started_at: new Date().toISOString() },
      }),
    );
    await db.send(
      new PutCommand({
        TableName: tables.RateLimitsTable,
        Item: { bucket_id: `writes#${userId}`, tat: Date.now() + 3_600_000 },
      }),
    );
    const answer = await call(stack.baseUrl, "POST", "/hooks/post-login", {
      token: await stackHookToken(stack),
      body: { user: { user_id: userId, email: "a@example.com", name: "A" } },
    });
    expect(answer.status).toBe(409);
    expect(answer.body.errorCode).toBe("account_being_deleted");
  });
});

describe("moving in at login", { timeout: 120_000 }, () => {
  const login = async (user: Record<string, unknown>) =>
    call(stack.baseUrl, "POST", "/hooks/post-login", {
      token: await stackHookToken(stack),
      body: { user },
    });

  it("moves a never-seen user's metadata in once and names each key it left out", async () => {
    const userId = uniqueUser("auth0");
    const first = await login({
      user_id: userId,
      user_metadata: { theme: "dark", "a.b": 1, displayName: "\u0007bell", lang: "fr" },
      app_metadata: { plan: "pro", denied_roles: "not a list", roles: ["admin"], blocked: true },
    });
    expect(first.status).toBe(200);
    expect(first.body.migration).toEqual({
      moved: ["theme", "lang"],
      skipped: ["a.b", "displayName"],
    });
    // The login rules apply on top: the default name where Auth0's broke the rules.
    expect(first.body.user_metadata).toEqual({ theme: "dark", lang: "fr", displayName: "user" });
    expect(first.body.app_metadata).toEqual({ plan: "pro" });

    const second = await login({ user_id: userId, user_metadata: { theme: "light" } });
    expect(second.body.migration).toEqual({ moved: [], skipped: [] });
    expect(second.body.user_metadata.theme).toBe("dark");
  });

  it("moves nothing for a user the store has seen (a song before any login)", async () => {
    const userId = uniqueUser("auth0");
    const token = await stackToken(stack, userId);
    await call(stack.baseUrl, "POST", "/songs", { token, body: { songName: "S", genre: "g" } });
    const answer = await login({ user_id: userId, user_metadata: { theme: "dark" } });
    expect(answer.body.migration).toEqual({ moved: [], skipped: [] });
    expect(answer.body.user_metadata).toEqual({ displayName: "user" });
  });

  it("moves a local tenant user's metadata in at their login, and trims it from the tenant", async () => {
    const userId = uniqueUser("auth0");
    userUserMetadata(stack.dataDir).merge(userId, { theme: "dark", x$y: 2 });
    userAppMetadata(stack.dataDir).merge(userId, { plan: "family" });
    const token = await stackLogin(stack, userId);
    const stored = await call(stack.baseUrl, "GET", me(userId), { token });
    expect(stored.body.user_metadata).toEqual({ theme: "dark", displayName: "user" });
    expect(stored.body.app_metadata).toEqual({ plan: "family" });
    // The tenant keeps only what the store refused.
    expect(userUserMetadata(stack.dataDir).get(userId)).toEqual({ x$y: 2 });
  });
});

describe("deleted in Auth0: the log stream", { timeout: 120_000 }, () => {
  const invokeLogStream = async (event: unknown) => {
    const response = await fetch(
      `${stack.lambdaUrl}/2015-03-31/functions/music-user-data-dev-auth0LogStream/invocations`,
      { method: "POST", body: JSON.stringify(event) },
    );
    return { status: response.status, body: JSON.parse(await response.text()) as unknown };
  };

  it("erases the user on an sdu event as a DELETE does, ignores other types and drops malformed events", async () => {
    const userId = uniqueUser("google-oauth2");
    const token = await stackToken(stack, userId);
    // An editor (roles as an operator's PATCH stores them) with a song in a featured playlist.
    await db.send(
      new PutCommand({
        TableName: tables.ProfilesTable,
        Item: {
          user_id: userId,
          user_metadata: { theme: "dark" },
          app_metadata: { roles: ["playlist_editor"] },
          version: 1,
          created_at: new Date(Date.now() - 60_000).toISOString(),
        },
      }),
    );
    const song = await call(stack.baseUrl, "POST", "/songs", {
      token,
      body: { songName: "Mine", genre: "g" },
    });
    const playlist = await call(stack.baseUrl, "POST", "/playlists", {
      token,
      body: { name: "P", songIds: [song.body.songId] },
    });
    await call(stack.baseUrl, "POST", `/playlists/${playlist.body.playlistId}/plays`, { token });
    const featured = await call(stack.baseUrl, "POST", "/playlists/featured", {
      token,
      body: { name: "Editor's pick", songIds: [song.body.songId] },
    });
    expect(featured.status).toBe(201);

    for (const malformed of [null, { detail: "x" }, { detail: { data: { user_id: userId } } }]) {
      expect(await invokeLogStream(malformed)).toEqual({ status: 200, body: "dropped" });
    }
    // Other log types (here a successful login) are none of its business.
    const login = sduEvent(userId);
    login.detail.data.type = "s";
    expect(await invokeLogStream(login)).toEqual({ status: 200, body: "ignored" });
    expect((await call(stack.baseUrl, "GET", "/songs", { token })).body.songs).toHaveLength(1);
    // sdu without a user id: dropped, never retried.
    const anonymous = sduEvent(userId) as { detail: { data: Record<string, unknown> } };
    delete anonymous.detail.data.user_id;
    expect(await invokeLogStream(anonymous)).toEqual({ status: 200, body: "dropped" });

    expect(await invokeLogStream(sduEvent(userId))).toEqual({ status: 200, body: "erased" });
    expect(await storedProfile(userId)).toBeUndefined();
    // The token dies with the account; a later one finds nothing, the featured playlist stays
    // without the erased song.
    expect((await call(stack.baseUrl, "GET", "/songs", { token })).status).toBe(401);
    await pastTokenCutOff();
    const later = await stackToken(stack, userId);
    expect((await call(stack.baseUrl, "GET", "/songs", { token: later })).body.songs).toEqual([]);
    expect(
      (await call(stack.baseUrl, "GET", "/playlists", { token: later })).body.playlists,
    ).toEqual([]);
    const shelf = await call(stack.baseUrl, "GET", "/playlists/featured", { token: later });
    const pick = shelf.body.playlists.find(
      (p: { playlistId: string }) => p.playlistId === featured.body.playlistId,
    );
    expect(pick.songIds).toEqual([]);
    // Delivered again (EventBridge delivers at least once): the new account of that id stays.
    await call(stack.baseUrl, "PUT", "/displayName", {
      token: later,
      body: { displayName: "New" },
    });
    const again = sduEvent(userId, new Date(Date.now() - 5_000));
    expect(await invokeLogStream(again)).toEqual({ status: 200, body: "newer_account" });
    expect((await storedProfile(userId))?.user_metadata).toEqual({ displayName: "New" });
  });

  it("gets the local tenant's sdu event when the tenant deletes a user, and erases them", async () => {
    const userId = uniqueUser("auth0");
    const token = await stackToken(stack, userId);
    await call(stack.baseUrl, "PUT", "/displayName", { token, body: { displayName: "Gone" } });
    userAppMetadata(stack.dataDir).merge(userId, { plan: "free" });
    // Deleted in the tenant (as in Auth0's dashboard), not through the API.
    const issuer = `http://127.0.0.1:${stack.issuerPort}/`;
    const management = loadOrCreateManagementClient(stack.dataDir);
    const grant = await fetch(`${issuer}oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        grant_type: "client_credentials",
        client_id: management.clientId,
        client_secret: management.clientSecret,
        audience: `${issuer}api/v2/`,
      }),
    });
    const { access_token } = (await grant.json()) as { access_token: string };
    const deleted = await fetch(`${issuer}api/v2/users/${encodeURIComponent(userId)}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${access_token}` },
    });
    expect(deleted.status).toBe(204);
    const deadline = Date.now() + 20_000;
    while ((await storedProfile(userId)) !== undefined && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(await storedProfile(userId)).toBeUndefined();
    expect((await call(stack.baseUrl, "GET", "/displayName", { token })).status).toBe(401);
  });
});
