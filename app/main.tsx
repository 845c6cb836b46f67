/**
 * The seed's mobile app as a phone-sized web page: log in with Auth0 (auth0-spa-js, the
 * Authorization Code flow with PKCE), then the Home, Library, Featured and Settings screens
 * against the Music API. The roles come from the access token's `${claimsNamespace}roles` claim,
 * which the post-login Action sets; the API decides from the stored roles either way.
 */
import { type Auth0Client, createAuth0Client } from "@auth0/auth0-spa-js";
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { apiFor, type Session } from "./api.ts";
import type { AppConfig } from "./config.ts";
import { Featured, Home, Library, Settings } from "./screens.tsx";

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

async function start(): Promise<{ auth0: Auth0Client; session?: Session }> {
  const config = readConfig();
  const auth0 = await createAuth0Client({
    domain: config.domain,
    clientId: config.clientId,
    authorizationParams: { audience: config.audience, redirect_uri: `${location.origin}/` },
    // Survives a reload; auth0-spa-js renews tokens with a hidden iframe (prompt=none).
    cacheLocation: "localstorage",
  });
  const query = new URLSearchParams(location.search);
  if (query.has("code") && query.has("state")) {
    await auth0.handleRedirectCallback();
    history.replaceState({}, "", "/");
  }
  if (!(await auth0.isAuthenticated())) return { auth0 };
  let token: string;
  try {
    token = (await auth0.getTokenSilently()) ?? "";
  } catch (error) {
    // The tenant's session is over (expired, logged out elsewhere): log in again.
    if ((error as { error?: string }).error === "login_required") return { auth0 };
    throw error;
  }
  const claims = claimsOf(token);
  const roles = claims[`${config.claimsNamespace}roles`];
  return {
    auth0,
    session: {
      userId: String(claims.sub),
      roles: Array.isArray(roles) ? roles.map(String) : [],
      api: apiFor(auth0, config.apiUrl),
      logout: () => auth0.logout({ logoutParams: { returnTo: `${location.origin}/` } }),
    },
  };
}

function App() {
  const [state, setState] = useState<Awaited<ReturnType<typeof start>>>();
  const [failure, setFailure] = useState<string>();
  const [screen, setScreen] = useState<Screen>("Home");
  useEffect(() => {
    start().then(setState, (error: Error) =>
      // fetch's TypeError ("Failed to fetch"): the login service (the tenant) did not answer.
      setFailure(
        error instanceof TypeError
          ? "the login service is starting or unreachable. Try again in a moment."
          : error.message,
      ),
    );
  }, []);

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
  const { auth0, session } = state;
  if (!session) {
    return (
      <main class="welcome">
        <h1>Music</h1>
        <p>Your songs, playlists and plays, wherever you log in.</p>
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
            onClick={() => setScreen(name)}
          >
            {name}
          </button>
        ))}
      </nav>
    </div>
  );
}

render(<App />, document.getElementById("app") as HTMLElement);
