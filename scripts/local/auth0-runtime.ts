import { createRequire } from "node:module";
import { join } from "node:path";
import { loadOrCreateLocalClient, userAppMetadata, userUserMetadata } from "./issuer.ts";
import type { LoginProtocol, LoginUser } from "./oidc-issuer/options.ts";
import { ROOT } from "./serverless-config.ts";
import type { localSettings } from "./settings.ts";

/**
 * What Auth0 hands a post-login Action, reduced to the parts our Action uses: the event, and an
 * `api` whose token claims and cache are kept here for the caller to read. Lets the real Action
 * run on a laptop (`npm run login`) and in tests. The `api` has only what Auth0 allows on every
 * protocol, a refresh-token exchange included: no api.redirect and no MFA challenge, which need
 * a person at a browser and which Auth0 does not run on a refresh.
 */
export interface ActionRun {
  accessTokenClaims: Record<string, unknown>;
  idTokenClaims: Record<string, unknown>;
  /** What the Action set with api.user.setAppMetadata: Auth0 merges it into the user's. */
  appMetadata: Record<string, unknown>;
  /** What the Action set with api.user.setUserMetadata (null: the key removed). */
  userMetadata: Record<string, unknown>;
  cache: Map<string, { value: string; expires_at?: number }>;
  /** The reason given to api.access.deny, when the Action refused the login. */
  denied?: string;
}

export interface PostLoginEvent {
  user: {
    user_id: string;
    email?: string;
    name?: string;
    app_metadata?: Record<string, unknown>;
    user_metadata?: Record<string, unknown>;
  };
  /** How the user came: a login, or a refresh-token exchange ("oauth2-refresh-token"). */
  transaction?: { protocol: LoginProtocol };
  secrets: Record<string, string>;
}

type Action = { onExecutePostLogin(event: PostLoginEvent, api: unknown): Promise<void> };

function loadAction(): Action {
  return createRequire(import.meta.url)(join(ROOT, "auth0", "post-login-action.js")) as Action;
}

export async function runPostLoginAction(
  event: PostLoginEvent,
  cache: ActionRun["cache"] = new Map(),
): Promise<ActionRun> {
  const run: ActionRun = {
    accessTokenClaims: {},
    idTokenClaims: {},
    appMetadata: {},
    userMetadata: {},
    cache,
  };
  const api = {
    access: {
      deny: (reason: string) => {
        run.denied = reason;
      },
    },
    user: {
      setAppMetadata: (name: string, value: unknown) => {
        run.appMetadata[name] = value;
      },
      setUserMetadata: (name: string, value: unknown) => {
        run.userMetadata[name] = value;
      },
    },
    accessToken: {
      setCustomClaim: (name: string, value: unknown) => {
        run.accessTokenClaims[name] = value;
      },
    },
    idToken: {
      setCustomClaim: (name: string, value: unknown) => {
        run.idTokenClaims[name] = value;
      },
    },
    cache: {
      get: (key: string) => {
        const item = cache.get(key);
        return item && (item.expires_at === undefined || item.expires_at > Date.now())
          ? item
          : undefined;
      },
      set: (key: string, value: string, options: { expires_at?: number } = {}) => {
        cache.set(key, { value, ...options });
        return { type: "success" };
      },
      delete: (key: string) => {
        cache.delete(key);
        return { type: "success" };
      },
    },
  };
  await loadAction().onExecutePostLogin(event, api);
  return run;
}

/**
 * A login (or a refresh-token exchange) on the local tenant, as Auth0 runs one: the Action with
 * its event's `transaction.protocol`, the secrets it is configured
 * with (the running stack's hook, the local M2M client) and the user's app_metadata; what it
 * sets with api.user.setAppMetadata is merged into the user's, as Auth0 does.
 */
export async function runLocalLogin(
  settings: ReturnType<typeof localSettings>,
  user: LoginUser,
  cache?: ActionRun["cache"],
  protocol: LoginProtocol = "oidc-basic-profile",
): Promise<ActionRun> {
  const client = loadOrCreateLocalClient(settings.dataDir);
  const appMetadata = userAppMetadata(settings.dataDir);
  const userMetadata = userUserMetadata(settings.dataDir);
  const run = await runPostLoginAction(
    {
      user: {
        ...user,
        app_metadata: appMetadata.get(user.user_id),
        user_metadata: userMetadata.get(user.user_id),
      },
      transaction: { protocol },
      secrets: {
        HOOK_URL: `http://127.0.0.1:${settings.port}/hooks/post-login`,
        TOKEN_URL: `${settings.authIssuer}oauth/token`,
        CLIENT_ID: client.clientId,
        CLIENT_SECRET: client.clientSecret,
        AUDIENCE: settings.authAudience,
        CLAIMS_NAMESPACE: settings.claimsNamespace,
        TRIM_AUTH0_METADATA: settings.trimAuth0Metadata ? "true" : "false",
      },
    },
    cache,
  );
  // Auth0 applies nothing an Action set on a login it denied.
  if (run.denied === undefined) {
    appMetadata.merge(user.user_id, run.appMetadata);
    userMetadata.merge(user.user_id, run.userMetadata);
  }
  return run;
}
