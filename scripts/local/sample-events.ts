/**
 * The sample events of events/, generated from one template per kind: an HTTP API (payload 2.0)
 * request, and Auth0's post-login event. `npm run events` writes them; a test fails when the
 * files differ from what this generates, so they never drift apart.
 */

const PLAYLIST_ID = "01JD0000000000000000000PLY";
const SONG_ID = "01JD0000000000000000000SNG";
const USER_ID = "google-oauth2|xxxyyy123";

interface HttpSample {
  routeKey: string;
  /** The request's method when the route key does not say it ($default). */
  method?: string;
  path: string;
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
  headers?: Record<string, string>;
  /** Public routes carry no token. */
  anonymous?: boolean;
}

/** An HTTP API request as API Gateway hands it to the function. */
function httpEvent(name: string, sample: HttpSample) {
  const method = sample.method ?? (sample.routeKey.split(" ")[0] as string);
  const rawQueryString = new URLSearchParams(sample.query ?? {}).toString();
  return {
    version: "2.0",
    routeKey: sample.routeKey,
    rawPath: sample.path,
    rawQueryString,
    headers: {
      accept: "application/json",
      ...(sample.anonymous ? {} : { authorization: "Bearer REPLACE_WITH_ACCESS_TOKEN" }),
      host: "api.music.example.com",
      "user-agent": "MusicApp/1.0 (iOS)",
      "x-correlation-id": `sample-${name}`,
      ...(sample.body === undefined ? {} : { "content-type": "application/json" }),
      ...sample.headers,
    },
    ...(sample.query ? { queryStringParameters: sample.query } : {}),
    requestContext: {
      accountId: "123456789012",
      apiId: "a1b2c3d4e5",
      domainName: "api.music.example.com",
      domainPrefix: "api",
      http: {
        method,
        path: sample.path,
        protocol: "HTTP/1.1",
        sourceIp: "203.0.113.10",
        userAgent: "MusicApp/1.0 (iOS)",
      },
      requestId: "Jd3kXgQmoAMEVAQ=",
      routeKey: sample.routeKey,
      stage: "$default",
      time: "26/Nov/2026:10:00:00 +0000",
      timeEpoch: 1795687200000,
    },
    isBase64Encoded: false,
    ...(sample.body === undefined ? {} : { body: JSON.stringify(sample.body) }),
    ...(sample.pathParameters ? { pathParameters: sample.pathParameters } : {}),
  };
}

interface LoginSample {
  number: number;
  email: string;
  name: string;
  logins: number;
  userMetadata: Record<string, unknown>;
  appMetadata: Record<string, unknown>;
}

/** Auth0's post-login event (the parts an Action sees), for one user. */
function postLoginEvent(kind: string, user: LoginSample) {
  const id = `1000000000000000000${String(user.number).padStart(2, "0")}`;
  return {
    transaction: {
      id: `txn_${kind}`,
      locale: "en",
      protocol: "oidc-basic-profile",
      requested_scopes: ["openid", "profile", "email"],
    },
    request: {
      ip: "203.0.113.10",
      language: "en",
      method: "GET",
      hostname: "YOUR_TENANT.auth0.com",
      user_agent: "MusicApp/1.0 (iOS)",
    },
    connection: { id: "con_123", name: "google-oauth2", strategy: "google-oauth2" },
    client: { client_id: "mobileAppClientId", name: "Music iOS" },
    tenant: { id: "your-tenant" },
    stats: { logins_count: user.logins },
    authorization: { roles: [] },
    user: {
      user_id: `google-oauth2|${id}`,
      email: user.email,
      email_verified: true,
      name: user.name,
      created_at: "2026-01-05T10:00:00.000Z",
      updated_at: "2026-11-26T10:00:00.000Z",
      user_metadata: user.userMetadata,
      app_metadata: user.appMetadata,
      identities: [
        { provider: "google-oauth2", user_id: id, connection: "google-oauth2", isSocial: true },
      ],
    },
  };
}

const LOGINS: Record<string, LoginSample> = {
  "first-login": {
    number: 1,
    email: "new.listener@example.com",
    name: "New Listener",
    logins: 1,
    userMetadata: {},
    appMetadata: {},
  },
  "returning-user": {
    number: 2,
    email: "returning@example.com",
    name: "Returning Listener",
    logins: 42,
    userMetadata: { displayName: "J-vald3z" },
    appMetadata: { plan: "free" },
  },
  editor: {
    number: 3,
    email: "editor@example.com",
    name: "Busy Editor",
    logins: 230,
    userMetadata: { displayName: "DJ Edit" },
    appMetadata: { plan: "premium", roles: ["beta_tester"] },
  },
  "demoted-editor": {
    number: 4,
    email: "former.editor@example.com",
    name: "Former Editor",
    logins: 310,
    userMetadata: { displayName: "Was Editor" },
    appMetadata: { plan: "premium", roles: ["playlist_editor", "beta_tester"] },
  },
};

const playlist = { pathParameters: { playlistId: PLAYLIST_ID } };
const song = { pathParameters: { songId: SONG_ID } };
const user = {
  path: `/users/${encodeURIComponent(USER_ID)}`,
  pathParameters: { userId: USER_ID },
};

const HTTP: Record<string, HttpSample> = {
  "displayName-get": { routeKey: "GET /displayName", path: "/displayName" },
  "displayName-put": {
    routeKey: "PUT /displayName",
    path: "/displayName",
    body: { displayName: "J-vald3z" },
  },
  "featured-create": {
    routeKey: "POST /playlists/featured",
    path: "/playlists/featured",
    body: { name: "Editors' picks", songIds: [] },
  },
  "featured-delete": {
    routeKey: "DELETE /playlists/featured/{playlistId}",
    path: `/playlists/featured/${PLAYLIST_ID}`,
    ...playlist,
  },
  "featured-list": { routeKey: "GET /playlists/featured", path: "/playlists/featured" },
  "featured-patch": {
    routeKey: "PATCH /playlists/featured/{playlistId}",
    path: `/playlists/featured/${PLAYLIST_ID}`,
    ...playlist,
    body: { name: "Editors' picks: winter" },
  },
  "featured-restore": {
    routeKey: "POST /playlists/featured/{playlistId}/restore",
    path: `/playlists/featured/${PLAYLIST_ID}/restore`,
    ...playlist,
  },
  "genres-getFav": { routeKey: "GET /genres/getFav", path: "/genres/getFav" },
  "genres-putFav": { routeKey: "PUT /genres/fav", path: "/genres/fav", body: { genre: "jazz" } },
  getPlays: { routeKey: "GET /playlists/getPlays", path: "/playlists/getPlays" },
  openapi: { routeKey: "GET /openapi.json", path: "/openapi.json", anonymous: true },
  health: { routeKey: "GET /health", path: "/health", anonymous: true },
  "unknown-route": { routeKey: "$default", method: "GET", path: "/no/such/route", anonymous: true },
  "playlists-create": {
    routeKey: "POST /playlists",
    path: "/playlists",
    body: { name: "Road trip", songIds: [SONG_ID] },
    headers: { "idempotency-key": "b0e2d8c4-5a61-4f3e-8d7c-2b9a1e0f6c33" },
  },
  "playlists-delete": {
    routeKey: "DELETE /playlists/{playlistId}",
    path: `/playlists/${PLAYLIST_ID}`,
    ...playlist,
  },
  "playlists-get": {
    routeKey: "GET /playlists/{playlistId}",
    path: `/playlists/${PLAYLIST_ID}`,
    ...playlist,
  },
  "playlists-list": { routeKey: "GET /playlists", path: "/playlists", query: { limit: "25" } },
  "playlists-patch": {
    routeKey: "PATCH /playlists/{playlistId}",
    path: `/playlists/${PLAYLIST_ID}`,
    ...playlist,
    body: { name: "Road trip 2026" },
  },
  "playlists-play": {
    routeKey: "POST /playlists/{playlistId}/plays",
    path: `/playlists/${PLAYLIST_ID}/plays`,
    ...playlist,
  },
  "postLogin-http": {
    routeKey: "POST /hooks/post-login",
    path: "/hooks/post-login",
    body: postLoginEvent("first-login", LOGINS["first-login"] as LoginSample),
    headers: { "user-agent": "Auth0 Action" },
  },
  "songs-create": {
    routeKey: "POST /songs",
    path: "/songs",
    body: { songName: "Number One Hit", genre: "pop" },
    headers: { "idempotency-key": "7f1c9a52-2f0e-4d1b-9a57-0c3c1d2e4b11" },
  },
  "songs-delete": { routeKey: "DELETE /songs/{songId}", path: `/songs/${SONG_ID}`, ...song },
  "songs-get": { routeKey: "GET /songs/{songId}", path: `/songs/${SONG_ID}`, ...song },
  "songs-list": { routeKey: "GET /songs", path: "/songs", query: { limit: "25" } },
  "users-delete": { routeKey: "DELETE /users/{userId}", ...user },
  "users-export": {
    routeKey: "GET /users/{userId}/export",
    path: `${user.path}/export`,
    pathParameters: user.pathParameters,
  },
  "users-get": { routeKey: "GET /users/{userId}", ...user },
  "users-patch": {
    routeKey: "PATCH /users/{userId}",
    ...user,
    body: { user_metadata: { displayName: "J-vald3z", preferences: { theme: "dark" } } },
  },
};

/** Every sample event, by file name (without .json). */
export function sampleEvents(): Record<string, unknown> {
  return {
    ...Object.fromEntries(Object.entries(HTTP).map(([name, s]) => [name, httpEvent(name, s)])),
    ...Object.fromEntries(
      Object.entries(LOGINS).map(([kind, u]) => [`postLogin-${kind}`, postLoginEvent(kind, u)]),
    ),
  };
}
