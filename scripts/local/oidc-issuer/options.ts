/**
 * What a local Auth0 tenant is made of (serve.ts serves it): its applications, the post-login
 * Action, the one Management API call, and its refresh tokens' lifetimes.
 */
import type { LocalClient, SigningKey } from "../issuer.ts";

/** The single-page app of this repository, registered as Auth0 registers an SPA. */
interface LocalApp {
  clientId: string;
  /** Where the app runs: its callback and logout URLs ("Allowed Callback/Logout URLs") and the
   * origins allowed to call /oauth/token ("Allowed Web Origins"). */
  origins: string[];
}

/** The mobile app of the seed, registered as Auth0 registers a Native application. */
interface LocalNativeApp {
  clientId: string;
  /** Its callback and logout URLs, custom schemes such as `com.example.music://callback`. */
  callbacks: string[];
}

/**
 * Auth0's `event.transaction.protocol` of a post-login run: a login through /authorize, or a
 * refresh-token exchange at /oauth/token.
 */
export type LoginProtocol = "oidc-basic-profile" | "oauth2-refresh-token";

/** Who typed themselves in at the login page. */
export interface LoginUser {
  user_id: string;
  name?: string;
  email?: string;
}

/** What the post-login Action set on this login. */
export interface LoginClaims {
  accessTokenClaims: Record<string, unknown>;
  idTokenClaims: Record<string, unknown>;
  /** Set when the Action refused the login (api.access.deny), with its reason. */
  denied?: string;
}

export interface IssuerOptions {
  issuer: string;
  key: SigningKey;
  /** The API's identifier (Auth0's "audience"); the only resource server of this tenant. */
  audience: string;
  /** Machine-to-machine applications, each allowed its `scope` on the API. */
  clients?: LocalClient[];
  /**
   * Auth0's Management API, for the one call the API makes (`DELETE /api/v2/users/{id}`): the
   * M2M application allowed `delete:users` on it (audience `${issuer}api/v2/`), and what else
   * the tenant keeps of a user outside this process (the app_metadata mirror), which a deletion
   * forgets; `forget` answers whether it knew the user.
   */
  management?: {
    client: LocalClient;
    forget(userId: string): boolean;
    /** After a deletion answered 204: Auth0 writes its `sdu` log event (the log stream). */
    deleted?(userId: string): void;
  };
  /**
   * When set, the app (and the native app) may log users in; each login and each refresh-token
   * exchange runs `postLogin` (the Action) with its protocol.
   */
  login?: {
    app: LocalApp;
    nativeApp?: LocalNativeApp;
    /** Namespaced claims the Action may set; listed so that ID tokens carry them. */
    customClaims: string[];
    postLogin(user: LoginUser, protocol: LoginProtocol): Promise<LoginClaims>;
  };
  /** Refresh tokens' lifetimes, as Auth0's "Idle" and "Maximum" ones; Auth0's defaults. */
  refreshTokens?: RefreshTokenLifetimes;
}

/** In seconds: unused for `idleSeconds`, or `absoluteSeconds` after the login, a family ends. */
export interface RefreshTokenLifetimes {
  idleSeconds: number;
  absoluteSeconds: number;
}

/** Auth0's defaults for rotating refresh tokens: 15 days idle, 30 days in all. */
export const DEFAULT_REFRESH_TOKEN_LIFETIMES: RefreshTokenLifetimes = {
  idleSeconds: 15 * 86_400,
  absoluteSeconds: 30 * 86_400,
};

/**
 * How long a refresh token issued now lives: the idle lifetime, cut to what is left of the
 * family's absolute one (`ageSeconds` since the login that began it). Each rotation issues a
 * token for this long, so a token unused for the idle lifetime dies, and none outlives the
 * absolute one.
 */
export function refreshTokenTtl(lifetimes: RefreshTokenLifetimes, ageSeconds: number): number {
  // At least a second: oidc-provider and the store read 0 as "never expires".
  return Math.max(1, Math.min(lifetimes.idleSeconds, lifetimes.absoluteSeconds - ageSeconds));
}
