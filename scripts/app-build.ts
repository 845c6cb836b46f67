/**
 * `npm run app:build`: the sample web app for a static host (S3 and CloudFront, Netlify, any web
 * server), configured for your Auth0 tenant and deployed API:
 *   AUTH_ISSUER=https://YOUR_TENANT.us.auth0.com/ AUTH_AUDIENCE=https://api.music.example.com \
 *   APP_CLIENT_ID=<SPA client id> API_URL=https://<api-id>.execute-api.<region>.amazonaws.com \
 *   npm run app:build [-- --out dist/app]
 * Serve index.html for "/" and list the host's origin in CORS_ALLOWED_ORIGINS when deploying the
 * API, and in the SPA's Allowed Callback/Logout URLs and Web Origins at Auth0.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { DEFAULTS } from "../lib/config.ts";
import { commandLine } from "./local/cli.ts";
import { ROOT } from "./local/serverless-config.ts";
import { appConfig, appFiles } from "./local/web-app.ts";

const { values } = commandLine(
  `usage: AUTH_ISSUER=https://YOUR_TENANT.us.auth0.com/ AUTH_AUDIENCE=<API identifier> \\
       APP_CLIENT_ID=<SPA client id> API_URL=<deployed API URL> npm run app:build [-- --out dist/app]

Writes the sample web app, configured for that tenant and API, for a static host: index.html,
app.js and app.css under --out (default dist/app). CLAIMS_NAMESPACE is optional.`,
  { options: { out: { type: "string", default: "dist/app" } } },
);
const env = process.env;
const missing = ["AUTH_ISSUER", "AUTH_AUDIENCE", "APP_CLIENT_ID", "API_URL"].filter(
  (name) => !env[name],
);
if (missing.length) {
  console.error(`app:build needs ${missing.join(", ")} (see the comment in scripts/app-build.ts)`);
  process.exit(2);
}
// The rule deploy follows (scripts/serverless/check-deploy-params.cjs): a value copied from the
// docs as printed, such as https://YOUR_TENANT.us.auth0.com/ or <api-id>, is refused.
const { placeholdersIn } = createRequire(import.meta.url)("./serverless/placeholders.cjs") as {
  placeholdersIn: (values: Record<string, string | undefined>) => string[];
};
const placeholders = placeholdersIn({
  AUTH_ISSUER: env.AUTH_ISSUER,
  AUTH_AUDIENCE: env.AUTH_AUDIENCE,
  APP_CLIENT_ID: env.APP_CLIENT_ID,
  API_URL: env.API_URL,
  CLAIMS_NAMESPACE: env.CLAIMS_NAMESPACE,
});
if (placeholders.length) {
  console.error(
    placeholders
      .map(
        (name) =>
          `${name} is still a placeholder from the docs ("${env[name]}"): put in your own value`,
      )
      .join("\n"),
  );
  process.exit(2);
}
for (const name of ["AUTH_ISSUER", "API_URL"]) {
  if (!URL.canParse(env[name] as string)) {
    console.error(`${name} must be a URL, got "${env[name]}"`);
    process.exit(2);
  }
}
const out = resolve(ROOT, values.out);
const files = await appFiles(
  appConfig({
    issuer: env.AUTH_ISSUER as string,
    clientId: env.APP_CLIENT_ID as string,
    audience: env.AUTH_AUDIENCE as string,
    apiUrl: env.API_URL as string,
    claimsNamespace: env.CLAIMS_NAMESPACE || DEFAULTS.claimsNamespace,
  }),
);
for (const [path, file] of Object.entries(files)) {
  const target = join(out, path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, file.body);
  console.log(`${relative(ROOT, target)}  ${Buffer.byteLength(file.body)} bytes`);
}
