/**
 * `npm run login -- <user_id> [--email ...] [--name ...]`: what an Auth0 login does, locally.
 * Runs the real Action (auth0/post-login-action.js) against the running `npm start`: it gets an
 * M2M token from the local issuer, calls the post-login hook, and sets the claims; then this
 * prints an access token from the local issuer carrying those claims. The roles the Action
 * mirrors into app_metadata are kept under DATA_DIR, as Auth0 keeps them on the user.
 */
import { runLocalLogin } from "./local/auth0-runtime.ts";
import { commandLine } from "./local/cli.ts";
import { loadOrCreateSigningKey, signAccessToken, userAppMetadata } from "./local/issuer.ts";
import { localSettings } from "./local/settings.ts";

const USAGE = `usage: npm run login -- <user_id> [--email a@example.com] [--name "A Name"] [--verbose]

What an Auth0 login does, against the running npm start: runs the post-login Action (which calls
the hook), then prints an access token carrying the claims it set. --verbose also prints the
claims and the app_metadata the Action mirrored, on stderr.`;

const { positionals, values } = commandLine(USAGE, {
  allowPositionals: true,
  options: {
    email: { type: "string" },
    name: { type: "string" },
    verbose: { type: "boolean", short: "v" },
  },
});
const [userId] = positionals;
if (!userId) {
  console.error(USAGE);
  process.exit(2);
}
const settings = localSettings();
if (settings.externalIssuer) {
  console.error(
    "AUTH_ISSUER is set: log in through that issuer (Auth0 runs the Action), not locally.",
  );
  process.exit(2);
}
const run = await runLocalLogin(settings, {
  user_id: userId,
  ...(values.email ? { email: values.email } : {}),
  ...(values.name ? { name: values.name } : {}),
});
if (values.verbose) {
  const mirror = userAppMetadata(settings.dataDir).get(userId);
  console.error(JSON.stringify({ claims: run.accessTokenClaims, app_metadata: mirror }, null, 2));
}
const key = await loadOrCreateSigningKey(settings.dataDir);
console.log(
  await signAccessToken(key, {
    issuer: settings.authIssuer,
    audience: settings.authAudience,
    sub: userId,
    claims: run.accessTokenClaims,
  }),
);
