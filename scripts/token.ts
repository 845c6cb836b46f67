/**
 * An access token from the local issuer, shaped as Auth0 issues them with RBAC on:
 *   npm run token -- <user_id> [--permissions "read:users ..."] [--scope "..."]
 *   npm run token -- --client <client_id> --scope "read:users ..."   (client credentials)
 * A user gets only the permissions assigned to them (`--permissions`, in the `permissions` claim);
 * a requested `--scope` is cut down to those, as Auth0 does. A client-credentials token carries
 * `gty: "client-credentials"` and `sub: <client_id>@clients`.
 */
import { commandLine } from "./local/cli.ts";
import { loadOrCreateSigningKey, signAccessToken } from "./local/issuer.ts";
import { localSettings } from "./local/settings.ts";

const USAGE = `usage: npm run token -- <user_id> [--permissions "read:users update:users"] [--scope "..."] [--expires-in seconds]
       npm run token -- --client <client_id> --scope "read:users update:users" [--expires-in seconds]

Prints an access token from the local issuer of the running npm start, shaped as Auth0 issues
them with RBAC on: a user's --permissions go into the permissions claim (--scope is cut down to
them); --client makes a client-credentials token (sub <client_id>@clients). Default lifetime 3600 s.`;

const { positionals, values } = commandLine(USAGE, {
  allowPositionals: true,
  options: {
    scope: { type: "string" },
    permissions: { type: "string" },
    client: { type: "string" },
    "expires-in": { type: "string", default: "3600" },
  },
});
const [sub] = positionals;
if (!sub === !values.client) {
  console.error(USAGE);
  process.exit(2);
}
const settings = localSettings();
if (settings.externalIssuer) {
  console.error("AUTH_ISSUER is set: get tokens from that issuer, not the local one.");
  process.exit(2);
}
const words = (text: string | undefined) => (text ?? "").split(" ").filter(Boolean);
const key = await loadOrCreateSigningKey(settings.dataDir);
const common = {
  issuer: settings.authIssuer,
  audience: settings.authAudience,
  expiresInSeconds: Number(values["expires-in"]),
};
let token: string;
if (values.client) {
  token = await signAccessToken(key, {
    ...common,
    sub: `${values.client}@clients`,
    ...(values.scope ? { scope: values.scope } : {}),
    claims: { gty: "client-credentials", azp: values.client },
  });
} else {
  const permissions = words(values.permissions);
  const scope = words(values.scope).filter((s) => permissions.includes(s));
  token = await signAccessToken(key, {
    ...common,
    sub: sub as string,
    permissions,
    ...(scope.length ? { scope: scope.join(" ") } : {}),
  });
}
console.log(token);
