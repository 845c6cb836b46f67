/**
 * oidc-provider's configuration of the tenant, shaped as Auth0: its applications, Auth0's
 * paths, the API (and the Management API) as resource servers, Auth0's refresh token rotation
 * and Auth0's access token shape.
 */
import { randomBytes } from "node:crypto";
import { type ClientMetadata, type Configuration, errors } from "oidc-provider";
import { PERMISSIONS } from "../../../lib/auth/access.ts";
import { refreshTokenTtl } from "./options.ts";
import { IDENTITY_SCOPES, type Tenant } from "./tenant.ts";
import { errorPage, LOGIN_PATH, loggedOutPage, logoutPage } from "./views.ts";

/** Permissions an operator may be given on the API: the API's own list. */
const API_PERMISSIONS: string[] = Object.values(PERMISSIONS);

/** The M2M applications, the single-page app and the native app, as Auth0 registers them. */
function registeredClients({ allClients, login }: Tenant): ClientMetadata[] {
  const app = login?.app;
  const nativeApp = login?.nativeApp;
  return [
    ...allClients.map(
      (client): ClientMetadata => ({
        client_id: client.clientId,
        client_secret: client.clientSecret,
        client_name: client.clientId,
        grant_types: ["client_credentials"],
        response_types: [],
        redirect_uris: [],
        scope: client.scope,
        token_endpoint_auth_method: "client_secret_post",
      }),
    ),
    ...(app
      ? [
          {
            client_id: app.clientId,
            client_name: "Music (local)",
            application_type: "web",
            token_endpoint_auth_method: "none",
            grant_types: ["authorization_code", "refresh_token"],
            response_types: ["code"] as const,
            redirect_uris: app.origins.map((origin) => `${origin}/`),
            post_logout_redirect_uris: app.origins.map((origin) => `${origin}/`),
          } satisfies ClientMetadata,
        ]
      : []),
    ...(nativeApp
      ? [
          {
            client_id: nativeApp.clientId,
            client_name: "Music (local, native)",
            application_type: "native",
            // A public client: an app on a phone keeps no secret (PKCE is required of it).
            token_endpoint_auth_method: "none",
            grant_types: ["authorization_code", "refresh_token"],
            response_types: ["code"] as const,
            redirect_uris: nativeApp.callbacks,
            post_logout_redirect_uris: nativeApp.callbacks,
          } satisfies ClientMetadata,
        ]
      : []),
  ];
}

/**
 * Auth0's Refresh Token Rotation: every exchange consumes the token and answers a new one.
 * oidc-provider calls this once per exchange, after it checked the token (a consumed one was
 * already refused there, its family revoked) and before it issues anything: the moment
 * Auth0 runs the post-login Action of a refresh, so the new tokens carry what it sets now.
 */
function refreshTokenRotation({ store, accounts }: Tenant): Configuration["rotateRefreshToken"] {
  return async (ctx) => {
    const token = ctx.oidc.entities.RefreshToken;
    if (!token) return true;
    // Consumed before the Action is awaited: oidc-provider marks it only afterwards, so
    // parallel exchanges of one token would each pass its check and start a chain. A token
    // used meanwhile is reuse, and revokes its family as oidc-provider's own check does.
    if (!store.consumeRefreshToken(token.jti)) {
      if (token.grantId) store.revokeGrant(token.grantId);
      throw new errors.InvalidGrant("refresh token already used");
    }
    let denied: string | undefined;
    try {
      denied = await accounts.runLoginAgain(token.accountId, "oauth2-refresh-token");
    } catch (error) {
      store.restoreRefreshToken(token.jti);
      throw error;
    }
    // As Auth0 answers api.access.deny on a refresh: 403, the token left as it was.
    if (denied !== undefined) {
      store.restoreRefreshToken(token.jti);
      throw Object.assign(new errors.AccessDenied(denied), { status: 403, statusCode: 403 });
    }
    return true;
  };
}

/** The API, the tenant's one resource server, and the Management API when it is served. */
function resourceIndicators({
  audience,
  management,
  managementAudience,
}: Tenant): NonNullable<Configuration["features"]>["resourceIndicators"] {
  return {
    enabled: true,
    defaultResource: async () => audience,
    useGrantedResource: async () => true,
    getResourceServerInfo: async (_ctx, indicator) => {
      if (management && indicator === managementAudience) {
        return {
          scope: "delete:users",
          audience: managementAudience,
          accessTokenFormat: "jwt",
          accessTokenTTL: 86_400,
          jwt: { sign: { alg: "RS256" } },
        };
      }
      if (indicator !== audience) throw new errors.InvalidTarget("Service not found");
      return {
        scope: API_PERMISSIONS.join(" "),
        audience,
        accessTokenFormat: "jwt",
        accessTokenTTL: 86_400,
        jwt: { sign: { alg: "RS256" } },
      };
    },
  };
}

function features(tenant: Tenant): Configuration["features"] {
  return {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    // An application revokes its own tokens only (Auth0's /oauth/revoke checks the client).
    revocation: {
      enabled: true,
      allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
    },
    // getTokenSilently's hidden iframe (prompt=none) answers by postMessage, as Auth0's does.
    webMessageResponseMode: { enabled: true, ack: "individual-draft-01" },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: async (ctx, form) => {
        ctx.body = logoutPage(form);
      },
      postLogoutSuccessSource: async (ctx) => {
        ctx.body = loggedOutPage();
      },
    },
    resourceIndicators: resourceIndicators(tenant),
  };
}

/** Auth0's access token shape (docs/local-stack.md: "The local Auth0 tenant"). */
function auth0AccessToken({
  accounts,
}: Tenant): NonNullable<NonNullable<Configuration["formats"]>["customizers"]>["jwt"] {
  return async (_ctx, token, jwt) => {
    const { payload } = jwt;
    jwt.header = { typ: "JWT" };
    payload.azp = payload.client_id;
    delete payload.client_id;
    if (token.kind === "ClientCredentials") {
      payload.sub = `${payload.azp}@clients`;
      payload.gty = "client-credentials";
    } else {
      Object.assign(payload, accounts.accessTokenClaims(String(payload.sub)), {
        permissions: [],
      });
    }
  };
}

export function configuration(tenant: Tenant): Configuration {
  const { key, login, lifetimes, store, accounts } = tenant;
  return {
    adapter: store.MemoryAdapter,
    clients: registeredClients(tenant),
    jwks: { keys: [key.privateJwk as never] },
    cookies: { keys: [randomBytes(32).toString("base64url")] },
    routes: {
      authorization: "/authorize",
      token: "/oauth/token",
      jwks: "/.well-known/jwks.json",
      userinfo: "/userinfo",
      end_session: "/oidc/logout",
      revocation: "/oauth/revoke",
    },
    claims: {
      openid: ["sub", ...(login?.customClaims ?? [])],
      profile: ["name", "nickname", "updated_at"],
      email: ["email", "email_verified"],
    },
    // The M2M clients' grants are registered as their `scope`, which must name known scopes.
    scopes: [...IDENTITY_SCOPES, ...API_PERMISSIONS],
    // Auth0 puts the profile into the ID token, which auth0-spa-js reads as the user.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    rotateRefreshToken: refreshTokenRotation(tenant),
    features: features(tenant),
    ttl: {
      AccessToken: 86_400,
      ClientCredentials: 86_400,
      AuthorizationCode: 60,
      IdToken: 36_000,
      Interaction: 3_600,
      Session: 3 * 86_400,
      // The grant is what a refresh token family lives on: it lasts as long as a family may.
      Grant: lifetimes.absoluteSeconds,
      // The family's first token carries its login's time (`iiat`) into every rotation.
      RefreshToken: (_ctx, token) => refreshTokenTtl(lifetimes, token.totalLifetime()),
    },
    interactions: { url: async (_ctx, interaction) => `${LOGIN_PATH}${interaction.uid}` },
    findAccount: async (_ctx, sub) => ({
      accountId: sub,
      claims: async () => accounts.claims(sub),
    }),
    formats: { customizers: { jwt: auth0AccessToken(tenant) } },
    renderError: async (ctx, out) => {
      ctx.type = "html";
      ctx.body = errorPage(out);
    },
    // The SPA's origins only: a native app sends no Origin, and no other site may read answers.
    clientBasedCORS: (_ctx, origin) => login?.app.origins.includes(origin) ?? false,
  };
}
