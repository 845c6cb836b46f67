import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { build } from "esbuild";
import type { AppConfig } from "../../app/config.ts";
import { refuseForeignRequest } from "./loopback.ts";
import { ROOT } from "./serverless-config.ts";

/**
 * The sample web app (app/) as the files a browser loads: the esbuild bundle, the stylesheet and
 * an index.html carrying the configuration and the Content-Security-Policy, and the service
 * worker (app/sw.ts) that keeps them for offline use. `npm start` serves them on 127.0.0.1;
 * `npm run app:build` writes them for a static host.
 */
const APP_DIR = join(ROOT, "app");

export interface AppFile {
  type: string;
  body: string;
  /** Its own Content-Security-Policy header, instead of the page's. */
  policy?: string;
}

/**
 * The service worker's own policy (a worker's CSP is its script's header): it loads nothing but
 * fetches the app's files into the precache, so only its own origin.
 */
const WORKER_POLICY = "default-src 'none'; connect-src 'self'";

/** Origins the app is served from: callback and logout URLs, CORS on the API and /oauth/token. */
export function appOrigins(port: number): string[] {
  return [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
}

/**
 * The app's configuration from the API's settings: Auth0's domain is the issuer without its
 * trailing slash (auth0-spa-js adds it back when it checks `iss`).
 */
export function appConfig(settings: {
  issuer: string;
  clientId: string;
  audience: string;
  apiUrl: string;
  claimsNamespace: string;
}): AppConfig {
  return {
    domain: settings.issuer.replace(/\/$/, ""),
    clientId: settings.clientId,
    audience: settings.audience,
    apiUrl: settings.apiUrl.replace(/\/$/, ""),
    claimsNamespace: settings.claimsNamespace,
  };
}

/** The issuer's origin, from an Auth0 domain (`tenant.us.auth0.com`) or a URL. */
function issuerOrigin(domain: string): string {
  return new URL(/^https?:\/\//.test(domain) ? domain : `https://${domain}`).origin;
}

/**
 * What the page may load and talk to: its own script and styles, the API, and the issuer's
 * endpoints (tokens are renewed with the refresh token at /oauth/token: no frame of the issuer).
 * `frame-ancestors` only works as a header, so servers add it.
 */
function contentSecurityPolicy(config: AppConfig): string {
  const issuer = issuerOrigin(config.domain);
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    // The service worker (/sw.js), from the app's own origin only.
    "worker-src 'self'",
    `connect-src ${new URL(config.apiUrl).origin} ${issuer}`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");
}

// "</script>" in a value cannot end the JSON block early.
const inlineJson = (value: unknown) => JSON.stringify(value).replace(/</g, "\\u003c");
const attribute = (text: string) => text.replace(/&/g, "&amp;").replace(/"/g, "&quot;");

function indexHtml(config: AppConfig): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${attribute(contentSecurityPolicy(config))}">
<title>Music</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/app.css">
<script type="application/json" id="app-config">${inlineJson(config)}</script>
<script type="module" src="/app.js"></script>
</head>
<body><div id="app"></div></body>
</html>
`;
}

async function bundle(entry: string, format: "esm" | "iife", define: Record<string, string> = {}) {
  const result = await build({
    entryPoints: [join(APP_DIR, entry)],
    bundle: true,
    write: false,
    format,
    target: "es2022",
    minify: true,
    legalComments: "none",
    tsconfig: join(APP_DIR, "tsconfig.json"),
    outfile: "out.js",
    define: { "process.env.NODE_ENV": '"production"', ...define },
    logLevel: "silent",
  });
  return result.outputFiles.find((file) => file.path.endsWith(".js"))?.text ?? "";
}

/** A file's revision in the precache: its content's hash, so only a changed file is fetched. */
const revision = (body: string) => createHash("sha256").update(body).digest("hex").slice(0, 16);

/**
 * The app's files by path, for `config`: esbuild bundles app/main.tsx, then app/sw.ts with the
 * precache manifest of the others (tens of ms each).
 */
export async function appFiles(config: AppConfig): Promise<Record<string, AppFile>> {
  const shell: Record<string, AppFile> = {
    "/index.html": { type: "text/html; charset=utf-8", body: indexHtml(config) },
    "/app.js": { type: "text/javascript; charset=utf-8", body: await bundle("main.tsx", "esm") },
    "/app.css": {
      type: "text/css; charset=utf-8",
      body: readFileSync(join(APP_DIR, "styles.css"), "utf8"),
    },
  };
  const manifest = Object.entries(shell).map(([url, file]) => ({
    url,
    revision: revision(file.body),
  }));
  const worker = await bundle("sw.ts", "iife", { "self.__WB_MANIFEST": JSON.stringify(manifest) });
  return {
    ...shell,
    "/sw.js": { type: "text/javascript; charset=utf-8", body: worker, policy: WORKER_POLICY },
  };
}

export function serveApp(
  port: number,
  config: AppConfig,
  files: Record<string, AppFile>,
): Promise<Server> {
  const headers = {
    "content-security-policy": `${contentSecurityPolicy(config)}; frame-ancestors 'none'`,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
  };
  const server = createServer((request, response) => {
    if (refuseForeignRequest(request, response)) return;
    const path = new URL(request.url ?? "/", "http://app").pathname;
    const file =
      request.method === "GET" || request.method === "HEAD"
        ? files[path === "/" ? "/index.html" : path]
        : undefined;
    if (!file) {
      response.writeHead(404, { ...headers, "content-type": "text/plain" });
      response.end("Not found");
      return;
    }
    const policy = file.policy ?? headers["content-security-policy"];
    response.writeHead(200, {
      ...headers,
      "content-security-policy": policy,
      "content-type": file.type,
    });
    response.end(request.method === "HEAD" ? undefined : file.body);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}
