/**
 * What the app needs to know, served by whoever serves the app (scripts/local/web-app.ts reads
 * it from the environment) as JSON in index.html: the same build runs against the local tenant
 * and a real Auth0 tenant.
 */
export interface AppConfig {
  /** The Auth0 domain (`your-tenant.us.auth0.com`), or the local issuer's origin. */
  domain: string;
  /** The Auth0 application's client id (type: Single Page Application). */
  clientId: string;
  /** The API identifier, asked for as `audience` so that access tokens are JWTs for the API. */
  audience: string;
  /** Where the API is served. */
  apiUrl: string;
  /** The prefix of the Action's claims: `${claimsNamespace}roles`. */
  claimsNamespace: string;
}
