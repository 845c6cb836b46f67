/**
 * The seed's mobile app as a phone-sized web page: log in with Auth0 (auth0-spa-js, the
 * Authorization Code flow with PKCE), then the Home, Library, Featured and Settings screens
 * against the Music API. The roles come from the access token's `${claimsNamespace}roles` claim,
 * which the post-login Action sets; the API decides from the stored roles either way. The
 * library lives on the device (app/store.ts, app/sync.ts) and a service worker (app/sw.ts) keeps
 * the app itself, so it opens and works offline (docs/offline-app.md).
 */
import { type Auth0Client, createAuth0Client } from "@auth0/auth0-spa-js";
import { render } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { apiFor, SESSION_OVER } from "./api.ts";
import type { AppConfig } from "./config.ts";
import { Featured } from "./screens/Featured.tsx";
import { Home } from "./screens/Home.tsx";
import { Library } from "./screens/Library.tsx";
import { Settings } from "./screens/Settings.tsx";
import type { Session } from "./session.ts";
import { forgetLibraries, openLibrary } from "./store.ts";
import { Sync } from "./sync.ts";
import { SyncStatus } from "./widgets/status.tsx";

const SCREENS = ["Home", "Library", "Featured", "Settings"] as const;
type Screen = (typeof SCREENS)[number];

/** The claims of a JWT, read without verifying: only to choose what to show. */
function claimsOf(token: string): Record<string, unknown> {
  const payload = token.split(".")[1] ?? "";
  return JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/"))) as Record<string, unknown>;
}

function readConfig(): AppConfig {
  return JSON.parse(document.getElementById("app-config")?.textContent ?? "{}") as AppConfig;
}

/** The roles an access token carries (the Action's claim): only to choose what to show. */
function rolesIn(token: string, claimsNamespace: string): string[] {
  const roles = claimsOf(token)[`${claimsNamespace}roles`];
  return Array.isArray(roles) ? roles.map(String) : [];
}

async function start(
  renewed: (roles: string[]) => void,
  ended: (auth0: Auth0Client) => void,
): Promise<{ auth0: Auth0Client; session?: Session; ended?: boolean }> {
  const config = readConfig();
  const auth0 = await createAuth0Client({
    domain: config.domain,
    clientId: config.clientId,
    authorizationParams: { audience: config.audience, redirect_uri: `${location.origin}/` },
    // Refresh-token rotation (Auth0's advice for browsers): tokens are renewed at /oauth/token,
    // never through a hidden iframe to the tenant, which a browser blocking third-party cookies
    // (Safari, Chrome's tracking protection) would break. No iframe fallback either.
    useRefreshTokens: true,
    useRefreshTokensFallback: false,
    // The refresh token must survive a reload, or each reload would be a new login (docs/local-stack.md: How
    // it logs in); rotation and reuse detection limit what a stolen one is worth.
    cacheLocation: "localstorage",
  });
  const query = new URLSearchParams(location.search);
  if (query.has("code") && query.has("state")) {
    await auth0.handleRedirectCallback();
    history.replaceState({}, "", "/");
  }
  if (!(await auth0.isAuthenticated())) return { auth0 };
  // Who is logged in comes from the ID token auth0-spa-js keeps: known offline too.
  const userId = (await auth0.getUser())?.sub;
  if (!userId) return { auth0 };
  let token = "";
  try {
    token = (await auth0.getTokenSilently()) ?? "";
  } catch (error) {
    // The tenant's session is over (expired, revoked, logged out elsewhere): log in again. The
    // library stays on the device (its queue too) until this user logs in again or logs out.
    if (SESSION_OVER.has((error as { error?: string }).error ?? "")) {
      await auth0.logout({ openUrl: false });
      return { auth0, ended: true };
    }
    // Offline (no tenant to renew at): the library works; a token comes with the network.
  }
  // Another user's copy left by a session that ended without a logout: not theirs to keep.
  await forgetLibraries(userId);
  const db = openLibrary(userId);
  const api = apiFor(auth0, config.apiUrl, {
    current: token,
    renewed: (next) => renewed(rolesIn(next, config.claimsNamespace)),
    ended: () => ended(auth0),
  });
  return {
    auth0,
    session: {
      userId,
      roles: token ? rolesIn(token, config.claimsNamespace) : [],
      api,
      db,
      sync: new Sync(db, api),
      logout: async () => {
        // The device's copy of the library and its queue go first: nothing stays behind.
        db.close();
        await forgetLibraries();
        // Ending the tenant's session (/v2/logout) leaves a refresh token valid, as at Auth0:
        // revoke it first. Unreachable, the logout goes on: the browser forgets it either way.
        await auth0.revokeRefreshToken().catch(() => undefined);
        await auth0.logout({ logoutParams: { returnTo: `${location.origin}/` } });
      },
    },
  };
}

const sameRoles = (a: string[], b: string[]) => a.join("\n") === b.join("\n");

function App() {
  const [state, setState] = useState<Awaited<ReturnType<typeof start>>>();
  const [failure, setFailure] = useState<string>();
  const [screen, setScreen] = useState<Screen>("Home");
  // The roles of the newest access token: a refresh brings those the Action set just now.
  const [roles, setRoles] = useState<string[]>();
  useEffect(() => {
    const renewed = (next: string[]) =>
      setRoles((current) => (current && sameRoles(current, next) ? current : next));
    // A refresh refused mid-session (the family revoked, or past its lifetime): the login
    // screen, with what the browser kept of the session forgotten.
    const ended = (auth0: Auth0Client) =>
      void auth0.logout({ openUrl: false }).then(() => setState({ auth0, ended: true }));
    start(renewed, ended).then(setState, (error: Error) =>
      // fetch's TypeError ("Failed to fetch"): the login service (the tenant) did not answer.
      setFailure(
        error instanceof TypeError
          ? "the login service is starting or unreachable. Try again in a moment."
          : error.message,
      ),
    );
  }, []);
  // Sync runs while a session does (on start, focus, reconnect, every 30 s).
  useEffect(() => state?.session?.sync.start(), [state?.session]);

  // One session object per roles: the screens reload when it changes, and only then.
  const started = state?.session;
  const session = useMemo(
    () => started && { ...started, roles: roles ?? started.roles },
    [started, roles],
  );

  if (failure) {
    return (
      <main class="welcome">
        <p role="alert">Could not log in: {failure}</p>
        <button type="button" onClick={() => location.assign("/")}>
          Start again
        </button>
      </main>
    );
  }
  if (!state) {
    return (
      <main class="welcome">
        <p class="muted" role="status">
          Loading…
        </p>
      </main>
    );
  }
  const { auth0 } = state;
  if (!session) {
    return (
      <main class="welcome">
        <h1>Music</h1>
        <p>Your songs, playlists and plays, wherever you log in.</p>
        {state.ended && (
          <p role="alert">
            Your session has ended: log in again. What you changed on this device is kept and sent
            once you do.
          </p>
        )}
        <button type="button" onClick={() => auth0.loginWithRedirect()}>
          Log in
        </button>
      </main>
    );
  }
  const { logout } = session;
  return (
    <div class="shell">
      <header>
        <h1 class="title">{screen}</h1>
        <SyncStatus session={session} />
        <button type="button" class="link" onClick={logout}>
          Log out
        </button>
      </header>
      <main>
        {screen === "Home" && <Home session={session} />}
        {screen === "Library" && <Library session={session} />}
        {screen === "Featured" && <Featured session={session} />}
        {screen === "Settings" && <Settings session={session} />}
      </main>
      <nav aria-label="Screens">
        {SCREENS.map((name) => (
          <button
            type="button"
            key={name}
            aria-current={name === screen ? "page" : undefined}
            onClick={() => {
              setScreen(name);
              // Opening a screen is a moment the person looks: bring in what changed elsewhere.
              void session.sync.request();
            }}
          >
            {name}
          </button>
        ))}
      </nav>
    </div>
  );
}

render(<App />, document.getElementById("app") as HTMLElement);

// The app shell for offline use (app/sw.ts); a browser without service workers just goes online.
if ("serviceWorker" in navigator) void navigator.serviceWorker.register("/sw.js");
