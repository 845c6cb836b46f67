/**
 * The local Auth0 tenant: oidc-provider (a certified OpenID provider) configured to look like
 * Auth0 to its clients, so that Auth0's own SDKs, the post-login Action and the API work with it
 * unchanged:
 * - Auth0's paths: /authorize, /oauth/token, /.well-known/jwks.json, /v2/logout (with
 *   `returnTo`), /userinfo;
 * - Auth0's `audience` parameter (oidc-provider speaks RFC 8707 `resource`), JSON bodies at the
 *   token endpoint, and a client-credentials request without `scope` getting the client's grant;
 * - access tokens shaped as Auth0's: RS256 JWTs (`typ: JWT`) with `azp`, user tokens with
 *   `permissions` (RBAC on, none assigned: operators use `npm run token`), client-credentials
 *   tokens with `gty: "client-credentials"` and `sub: <client_id>@clients`;
 * - a login page where a person types who they are, after which the post-login Action runs and
 *   its claims go into the ID and access tokens (or it denies the login); no consent screen (a
 *   first-party app);
 * - refresh tokens as Auth0 issues them: for `offline_access`, rotated at each exchange, a reused
 *   one revoking its whole family, with an idle and an absolute lifetime; the Action runs again
 *   at each exchange (`event.transaction.protocol` "oauth2-refresh-token"), so roles are fresh;
 * - a native application (public, PKCE, a custom-scheme callback) beside the single-page app;
 * - the one Management API call the API makes, `DELETE /api/v2/users/{id}` (audience
 *   `${issuer}api/v2/`, scope `delete:users`), which forgets the user.
 *
 * Laid out as oidc-provider's own example: configuration.ts, accounts.ts, interactions.ts
 * (the login step) and views.ts, with store.ts (its adapter), management.ts and requests.ts.
 */
import type { Server } from "node:http";
import Provider from "oidc-provider";
import { configuration } from "./configuration.ts";
import type { IssuerOptions } from "./options.ts";
import { auth0Requests, loopbackOnly } from "./requests.ts";
import { tenantOf } from "./tenant.ts";

export async function serveIssuer(port: number, options: IssuerOptions): Promise<Server> {
  const tenant = tenantOf(options);
  const provider = new Provider(options.issuer, configuration(tenant));
  provider.use(loopbackOnly);
  provider.use(auth0Requests(tenant, provider));
  return new Promise((resolve, reject) => {
    const server = provider.listen(port, "127.0.0.1", () => resolve(server));
    server.once("error", reject);
  });
}
