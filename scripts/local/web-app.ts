import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { build } from "esbuild";
import type { AppConfig } from "../../app/config.ts";
import { ROOT } from "./serverless-config.ts";

/**
 * The sample web app (app/): bundled by esbuild when `npm start` starts, then served on
 * 127.0.0.1 with its configuration written into index.html, so one build runs against the local
 * tenant or a real Auth0 tenant.
 */
const APP_DIR = join(ROOT, "app");

export interface BuiltApp {
  script: string;
  styles: string;
}

export async function buildApp(): Promise<BuiltApp> {
  const result = await build({
    entryPoints: [join(APP_DIR, "main.tsx")],
    bundle: true,
    write: false,
    format: "esm",
    target: "es2022",
    minify: true,
    legalComments: "none",
    tsconfig: join(APP_DIR, "tsconfig.json"),
    outfile: "app.js",
    logLevel: "silent",
  });
  const script = result.outputFiles.find((file) => file.path.endsWith(".js"))?.text ?? "";
  return { script, styles: readFileSync(join(APP_DIR, "styles.css"), "utf8") };
}

/** Origins the app is served from: callback and logout URLs, CORS on the API and /oauth/token. */
export function appOrigins(port: number): string[] {
  return [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
}

// "</script>" cannot end the JSON block early.
const inlineJson = (value: unknown) => JSON.stringify(value).replace(/</g, "\\u003c");

function indexHtml(config: AppConfig): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>Music</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/app.css">
<script type="application/json" id="app-config">${inlineJson(config)}</script>
<script type="module" src="/app.js"></script>
</head>
<body><div id="app"></div></body>
</html>`;
}

export function serveApp(port: number, config: AppConfig, app: BuiltApp): Promise<Server> {
  const issuerOrigin = new URL(
    /^https?:\/\//.test(config.domain) ? config.domain : `https://${config.domain}`,
  ).origin;
  const apiOrigin = new URL(config.apiUrl).origin;
  const files: Record<string, { type: string; body: string }> = {
    "/": { type: "text/html; charset=utf-8", body: indexHtml(config) },
    "/app.js": { type: "text/javascript; charset=utf-8", body: app.script },
    "/app.css": { type: "text/css; charset=utf-8", body: app.styles },
  };
  const headers = {
    // The app talks to the API and the issuer only; the issuer's hidden iframe renews tokens.
    "content-security-policy": [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      `connect-src ${apiOrigin} ${issuerOrigin}`,
      `frame-src ${issuerOrigin}`,
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join("; "),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
  };
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://app").pathname;
    const file = request.method === "GET" || request.method === "HEAD" ? files[path] : undefined;
    if (!file) {
      response.writeHead(404, { ...headers, "content-type": "text/plain" });
      response.end("Not found");
      return;
    }
    response.writeHead(200, { ...headers, "content-type": file.type });
    response.end(request.method === "HEAD" ? undefined : file.body);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}
