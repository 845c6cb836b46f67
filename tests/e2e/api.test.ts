import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { musicApi } from "../../client/index.ts";
import { type RunningStack, startStack } from "../../scripts/local/stack.ts";
import { checkAgainstContract } from "../helpers/contract.ts";
import { call } from "../helpers/http.ts";
import { audience, issuer, machineTokenFor, tokenFor, uniqueUser } from "../helpers/tokens.ts";

/** Every function through `npm start` over HTTP, as the app and the Auth0 Action call them. */
let stack: RunningStack;
const ROLES = "https://music.example.com/roles";

beforeAll(async () => {
  stack = await startStack({
    AUTH_ISSUER: issuer(),
    AUTH_AUDIENCE: audience(),
    PLAYLIST_EDITOR_MIN_PLAYS: "100",
  });
});
afterAll(async () => {
  await stack?.stop();
});

const api = (method: string, path: string, options: Parameters<typeof call>[3] = {}) =>
  call(stack.baseUrl, method, path, options);

/** The Lambda Invoke API of serverless-offline, as `aws lambda invoke` would call it. */
async function invokeDirect(functionName: string, payload: unknown) {
  const response = await fetch(
    `${stack.lambdaUrl}/2015-03-31/functions/${functionName}/invocations`,
    {
      method: "POST",
      body: JSON.stringify(payload),
    },
  );
  return { status: response.status, body: await response.json() };
}

describe("the API over HTTP", () => {
  it("serves /openapi.json without a token", async () => {
    const response = await api("GET", "/openapi.json");
    expect(response.status).toBe(200);
    expect(response.body.openapi).toBe("3.1.0");
    expect(Object.keys(response.body.paths)).toContain("/users/{userId}");
  });

  it("answers GET /health without a token, as a load balancer asks, and reads no data", async () => {
    const response = await api("GET", "/health");
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: "ok" });
    expect(response.headers.get("cache-control")).toBe("no-store");
    // A known route: /health/anything is still the unknown route's 404.
    const unknown = await api("GET", "/health/deep");
    expect(unknown).toMatchObject({ status: 404, body: { errorCode: "no_route" } });
  });

  it("serves an app's flow through the typed client generated from the document", async () => {
    const sub = uniqueUser("google-oauth2");
    const app = musicApi(stack.baseUrl, await tokenFor(sub));
    const named = await app.PUT("/displayName", { body: { displayName: "J-vald3z" } });
    expect(named.data).toEqual({ displayName: "J-vald3z" });
    const song = await app.POST("/songs", {
      body: { songName: "Number One Hit", genre: "pop" },
      params: { header: { "Idempotency-Key": "typed-1" } },
    });
    expect(song.response.status).toBe(201);
    const playlist = await app.POST("/playlists", {
      body: { name: "Road trip", songIds: [song.data?.songId ?? ""] },
    });
    const playlistId = playlist.data?.playlistId ?? "";
    const played = await app.POST("/playlists/{playlistId}/plays", {
      params: { path: { playlistId } },
    });
    expect(played.data?.plays).toBe(1);
    expect((await app.GET("/playlists/getPlays")).data).toEqual({ plays: 1 });
    const profile = await app.GET("/users/{userId}", { params: { path: { userId: sub } } });
    expect(profile.data?.user_metadata).toEqual({ displayName: "J-vald3z" });
    expect(profile.response.headers.get("etag")).toMatch(/^"\d+"$/);
    const missing = await app.GET("/songs/{songId}", {
      params: { path: { songId: "01JD0000000000000000000XXX" } },
    });
    expect(missing.error).toMatchObject({ statusCode: 404, errorCode: "song_not_found" });
  });

  it("stores songs per user and hides them from others", async () => {
    const token = await tokenFor(uniqueUser());
    const other = await tokenFor(uniqueUser());
    const created = await api("POST", "/songs", {
      token,
      body: { songName: "Number One Hit", genre: "pop" },
    });
    expect(created.status).toBe(201);
    const { songId } = created.body;
    expect((await api("GET", `/songs/${songId}`, { token })).body.songName).toBe("Number One Hit");
    expect((await api("GET", `/songs/${songId}`, { token: other })).status).toBe(404);
    expect((await api("DELETE", `/songs/${songId}`, { token: other })).status).toBe(404);
    expect((await api("GET", "/songs", { token })).body.songs).toHaveLength(1);
    expect((await api("DELETE", `/songs/${songId}`, { token })).status).toBe(204);
    expect((await api("GET", "/songs?limit=5", { token })).body).toEqual({
      songs: [],
      nextCursor: null,
    });
    expect((await api("GET", "/songs?cursor=forged", { token })).status).toBe(400);
  });

  it("keeps a playlist's songIds to the caller's songs: unknown ones are 400, deleted ones leave", async () => {
    const token = await tokenFor(uniqueUser());
    const song = async (songName: string) =>
      (await api("POST", "/songs", { token, body: { songName, genre: "jazz" } })).body.songId;
    const [a, b] = [await song("So What"), await song("Blue in Green")];
    const unknown = await api("POST", "/playlists", {
      token,
      body: { name: "Kind of Blue", songIds: [a, "01JD0000000000000000000XXX"] },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errorCode).toBe("unknown_song");
    expect(unknown.body.message).toContain('"01JD0000000000000000000XXX"');
    const created = await api("POST", "/playlists", {
      token,
      body: { name: "Kind of Blue", songIds: [a, b] },
    });
    expect(created.status).toBe(201);
    expect((await api("DELETE", `/songs/${a}`, { token })).status).toBe(204);
    const read = await api("GET", `/playlists/${created.body.playlistId}`, { token });
    expect(read.body.songIds).toEqual([b]);
  });

  it("counts plays into getPlays and lowers it when a playlist is deleted", async () => {
    const token = await tokenFor(uniqueUser());
    const { body: playlist } = await api("POST", "/playlists", { token, body: { name: "Gym" } });
    const plays = await Promise.all(
      Array.from({ length: 20 }, () =>
        api("POST", `/playlists/${playlist.playlistId}/plays`, { token }),
      ),
    );
    expect(plays.every((p) => p.status === 200)).toBe(true);
    expect((await api("GET", "/playlists/getPlays", { token })).body).toEqual({ plays: 20 });
    expect((await api("GET", `/playlists/${playlist.playlistId}`, { token })).body.plays).toBe(20);
    expect((await api("DELETE", `/playlists/${playlist.playlistId}`, { token })).status).toBe(204);
    expect((await api("GET", "/playlists/getPlays", { token })).body).toEqual({ plays: 0 });
  });

  it("answers the favourite genre", async () => {
    const token = await tokenFor(uniqueUser());
    expect((await api("GET", "/genres/getFav", { token })).body).toEqual({ favGenre: null });
    expect((await api("PUT", "/genres/fav", { token, body: { genre: "jazz" } })).body).toEqual({
      favGenre: "jazz",
    });
    expect((await api("GET", "/genres/getFav", { token })).body).toEqual({ favGenre: "jazz" });
  });

  it("serves /users/{userId} with a URL-encoded Auth0 id, ETags and 412", async () => {
    const sub = uniqueUser("google-oauth2");
    const token = await tokenFor(sub);
    const path = `/users/${encodeURIComponent(sub)}`;
    expect(path).toContain("%7C");
    const patched = await api("PATCH", path, {
      token,
      body: { user_metadata: { displayName: "J-vald3z", theme: "dark" } },
    });
    expect(patched.status).toBe(200);
    const etag = patched.headers.get("etag") as string;
    expect((await api("GET", "/displayName", { token })).body).toEqual({ displayName: "J-vald3z" });
    expect(
      (await api("PATCH", path, { token, body: { app_metadata: { plan: "premium" } } })).status,
    ).toBe(403);
    await api("PATCH", path, { token, body: { user_metadata: { theme: null } } });
    const stale = await api("PATCH", path, {
      token,
      body: { user_metadata: { x: 1 } },
      headers: { "if-match": etag },
    });
    expect(stale.status).toBe(412);
    const read = await api("GET", path, { token });
    expect(read.body.user_metadata).toEqual({ displayName: "J-vald3z" });
    expect((await api("GET", path, { token: await tokenFor(uniqueUser()) })).status).toBe(403);
    expect((await api("DELETE", path, { token })).status).toBe(204);
  });

  it("answers an unknown route 404 in the API's error shape, as deployed", async () => {
    const response = await api("GET", "/no/such/route");
    expect(response.status).toBe(404);
    expect(response.body).toEqual({
      statusCode: 404,
      error: "Not Found",
      message: expect.any(String),
      errorCode: "no_route",
    });
  });

  it("answers a body not sent as application/json 415 in the error shape, writing nothing", async () => {
    const sub = uniqueUser();
    const token = await tokenFor(sub);
    const hook = await machineTokenFor("auth0-action", "run:post_login");
    const requests: [string, string, string, string][] = [
      ["PUT", "/displayName", token, '{"displayName":"Formed"}'],
      ["POST", "/songs", token, '{"songName":"Formed","genre":"pop"}'],
      ["POST", "/hooks/post-login", hook, JSON.stringify({ user: { user_id: sub } })],
    ];
    // curl -d sends a form's media type; a raw client may send none at all (fetch always names
    // one, so that case goes through node:http).
    for (const [method, path, bearer, body] of requests) {
      const bare = await new Promise<number>((resolve, reject) => {
        const req = request(
          `${stack.baseUrl}${path}`,
          { method, headers: { authorization: `Bearer ${bearer}` } },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on("error", reject);
        req.end(body);
      });
      expect(bare, `${method} ${path} without a Content-Type`).toBe(415);
      for (const contentType of ["application/x-www-form-urlencoded", "text/plain"]) {
        const response = await fetch(`${stack.baseUrl}${path}`, {
          method,
          headers: { authorization: `Bearer ${bearer}`, "content-type": contentType },
          body,
        });
        const text = await response.text();
        expect(response.status, `${method} ${path}`).toBe(415);
        checkAgainstContract(
          method,
          `${stack.baseUrl}${path}`,
          response.status,
          response.headers,
          text,
        );
        expect(JSON.parse(text)).toEqual({
          statusCode: 415,
          error: "Unsupported Media Type",
          message: expect.stringContaining("Content-Type: application/json"),
          errorCode: "unsupported_media_type",
        });
      }
    }
    expect((await api("GET", "/displayName", { token })).body).toEqual({ displayName: "user" });
    expect((await api("GET", "/songs", { token })).body.songs).toEqual([]);
    // Nor did the hook run: it would have stored the default display name.
    const profile = await api("GET", `/users/${encodeURIComponent(sub)}`, { token });
    expect(profile.body.user_metadata).toEqual({});
  });

  it("answers a body of 0 like any other wrong body: 400, never 500", async () => {
    const token = await tokenFor(uniqueUser());
    const response = await api("PUT", "/displayName", {
      token,
      rawBody: "0",
      headers: { "content-type": "application/json" },
    });
    expect(response.status).toBe(400);
    expect(response.body.statusCode).toBe(400);
  });

  it("answers a body over 64 kB with 413", async () => {
    const sub = uniqueUser();
    const response = await api("PATCH", `/users/${encodeURIComponent(sub)}`, {
      token: await tokenFor(sub),
      body: { user_metadata: { a: "x".repeat(70_000) } },
    });
    expect(response.status).toBe(413);
  });
});

describe("the post-login hook and the playlist_editor role", () => {
  it("answers the same over HTTP and by direct Lambda invocation", async () => {
    const event = {
      user: { user_id: uniqueUser("google-oauth2"), email: "a@example.com", name: "A" },
    };
    const hookToken = await machineTokenFor("m2m", "run:post_login");
    const overHttp = await api("POST", "/hooks/post-login", { token: hookToken, body: event });
    expect(overHttp.status).toBe(200);
    const direct = await invokeDirect("music-user-data-dev-postLogin", event);
    expect(direct.status).toBe(200);
    expect(direct.body).toEqual(overHttp.body);
    expect(direct.body).toEqual({
      user_metadata: { displayName: "user" },
      app_metadata: {},
      claims: { [ROLES]: [] },
      // The event brought no metadata to move in.
      migration: { moved: [], skipped: [] },
    });
  });

  it("answers a malformed event the same error object by direct invocation as over HTTP", async () => {
    const hookToken = await machineTokenFor("m2m", "run:post_login");
    for (const event of [{}, JSON.parse('{"user": {"user_id": "auth0|x", "__proto__": {}}}')]) {
      const overHttp = await api("POST", "/hooks/post-login", { token: hookToken, body: event });
      expect(overHttp.status).toBe(400);
      const direct = await invokeDirect("music-user-data-dev-postLogin", event);
      // The invocation succeeds; its answer is the 400 object, not an unhandled exception.
      expect(direct.status).toBe(200);
      expect(direct.body).toEqual(overHttp.body);
    }
  });

  it("refuses the hook over HTTP without run:post_login", async () => {
    const sub = uniqueUser();
    const response = await api("POST", "/hooks/post-login", {
      token: await tokenFor(sub),
      body: { user: { user_id: sub } },
    });
    expect(response.status).toBe(403);
  });

  it("grants playlist_editor at 100 plays, keeps other roles on demotion, and revokes editing at once", async () => {
    const sub = uniqueUser("google-oauth2");
    const token = await tokenFor(sub);
    const hookToken = await machineTokenFor("m2m", "run:post_login");
    const operator = await machineTokenFor("ops", "update:users_app_metadata");
    const login = () =>
      api("POST", "/hooks/post-login", { token: hookToken, body: { user: { user_id: sub } } });

    // The first login creates the profile; then an operator gives a role.
    expect((await login()).status).toBe(200);
    const given = await api("PATCH", `/users/${encodeURIComponent(sub)}`, {
      token: operator,
      body: { app_metadata: { roles: ["beta_tester"] } },
    });
    expect(given.status).toBe(200);
    const { body: playlist } = await api("POST", "/playlists", { token, body: { name: "Hits" } });
    for (let batch = 0; batch < 4; batch++) {
      await Promise.all(
        Array.from({ length: 25 }, () =>
          api("POST", `/playlists/${playlist.playlistId}/plays`, { token }),
        ),
      );
    }
    expect((await api("GET", "/playlists/getPlays", { token })).body.plays).toBe(100);

    const promoted = await login();
    expect(promoted.body.claims[ROLES]).toEqual(["beta_tester", "playlist_editor"]);
    const featured = await api("POST", "/playlists/featured", {
      token,
      body: { name: "Editors' picks" },
    });
    expect(featured.status).toBe(201);

    // Deleting the playlist drops the plays to 0; the next login demotes, keeping beta_tester.
    expect((await api("DELETE", `/playlists/${playlist.playlistId}`, { token })).status).toBe(204);
    const demoted = await login();
    expect(demoted.body.app_metadata.roles).toEqual(["beta_tester"]);
    // The same access token as before: refused at once, from the stored roles.
    const refused = await api("PATCH", `/playlists/featured/${featured.body.playlistId}`, {
      token,
      body: { name: "x" },
    });
    expect(refused.status).toBe(403);
    expect((await api("GET", "/playlists/featured?limit=100", { token })).status).toBe(200);
  });
});
