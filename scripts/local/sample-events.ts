/**
 * The sample events of events/: one HTTP API (payload 2.0) request per declared route, named by
 * its operationId and built from its declaration (its key, the `example` of each path parameter,
 * its own `example`: body, query, headers), Auth0's post-login events, and a request no route
 * serves. `npm run events` writes them; a test fails when the files differ from what this
 * generates, so they never drift apart.
 */
import type { Route } from "../../lib/http/route.ts";
import { declaredRoutes } from "./routes.ts";

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

/**
 * Bodies the declarations leave to this file: the post-login hook's is Auth0's event, which
 * belongs with the direct invocations' samples above rather than in functions/postLogin.ts.
 */
const BODIES: Record<string, unknown> = {
  runPostLogin: postLoginEvent("first-login", LOGINS["first-login"] as LoginSample),
};

/** A route's sample, from its declaration: the path from its key and its params' examples. */
function sampleOf(route: Route): HttpSample {
  const routeKey = route.key;
  const pathParameters: Record<string, string> = {};
  const path = (routeKey.split(" ")[1] as string).replace(/\{(\w+)\}/g, (_, name: string) => {
    const param = route.params?.[name];
    if (!param) throw new Error(`${routeKey}: {${name}} is not a declared path parameter`);
    pathParameters[name] = param.example;
    return encodeURIComponent(param.example);
  });
  const body = route.example?.body ?? BODIES[route.id];
  return {
    routeKey,
    path,
    ...(Object.keys(pathParameters).length ? { pathParameters } : {}),
    ...(route.example?.query ? { query: route.example.query as Record<string, string> } : {}),
    ...(body === undefined ? {} : { body }),
    ...(route.example?.headers ? { headers: route.example.headers } : {}),
    anonymous: route.caller === "public",
  };
}

/** What API Gateway sends a path no route matches ($default). */
const UNKNOWN_ROUTE: HttpSample = {
  routeKey: "$default",
  method: "GET",
  path: "/no/such/route",
  anonymous: true,
};

/** Every sample event, by file name (without .json): a route's is its operationId. */
export async function sampleEvents(): Promise<Record<string, unknown>> {
  const routes = Object.values(await declaredRoutes()).flat();
  const named: [string, unknown][] = [
    ...routes.map((route): [string, unknown] => [route.id, httpEvent(route.id, sampleOf(route))]),
    ["unknown-route", httpEvent("unknown-route", UNKNOWN_ROUTE)],
    ...Object.entries(LOGINS).map(([kind, u]): [string, unknown] => [
      `postLogin-${kind}`,
      postLoginEvent(kind, u),
    ]),
  ];
  const events = Object.fromEntries(named);
  // One file per name: an operationId equal to another sample's name would overwrite it.
  if (Object.keys(events).length !== named.length)
    throw new Error("two sample events share a name");
  return events;
}
