/** `npm run token -- <user_id> [--scope "read:users ..."]`: an access token from the local issuer. */
import { parseArgs } from "node:util";
import { loadOrCreateSigningKey, signAccessToken } from "./local/issuer.ts";
import { localSettings } from "./local/settings.ts";

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    scope: { type: "string" },
    "expires-in": { type: "string", default: "3600" },
  },
});
const [sub] = positionals;
if (!sub) {
  console.error(
    'usage: npm run token -- <user_id> [--scope "read:users update:users"] [--expires-in seconds]',
  );
  process.exit(2);
}
const settings = localSettings();
if (settings.externalIssuer) {
  console.error("AUTH_ISSUER is set: get tokens from that issuer, not the local one.");
  process.exit(2);
}
const key = await loadOrCreateSigningKey(settings.dataDir);
const token = await signAccessToken(key, {
  issuer: settings.authIssuer,
  audience: settings.authAudience,
  sub,
  ...(values.scope ? { scope: values.scope } : {}),
  expiresInSeconds: Number(values["expires-in"]),
});
console.log(token);
