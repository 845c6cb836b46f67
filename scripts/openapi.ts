/**
 * `npm run openapi`: builds from every function's route declarations (scripts/local/routes.ts)
 * the OpenAPI document (lib/http/openapi.ts) into docs/openapi.json, which GET /openapi.json serves as
 * bundled, and what serverless.yml reads of them into scripts/serverless/routes.json (httpApi
 * events, per-route throttles, p99 alarm thresholds, declared metrics); then lints the document
 * with Redocly (recommended-strict rules, redocly.yaml: the file Redocly CLI 2 finds by itself,
 * so a plain `npx redocly lint` agrees) and Spectral (spectral:oas, .spectral.yaml). `--check`
 * fails when a file on disk differs from what the declarations make instead of writing it. */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { openApiDocument } from "../lib/http/openapi.ts";
import { commandLine } from "./local/cli.ts";
import { declaredRoutes, serverlessRoutes } from "./local/routes.ts";
import { ROOT } from "./local/serverless-config.ts";

const { values } = commandLine(
  `usage: npm run openapi [-- --check]

Writes docs/openapi.json (built by lib/http/openapi.ts from the route declarations of functions/),
scripts/serverless/routes.json (what serverless.yml reads of them: events, throttles, p99
alarm thresholds, declared metrics) and client/api.d.ts (openapi-typescript), then
lints the document with Redocly (redocly.yaml) and Spectral (.spectral.yaml). --check writes
nothing and fails when either file differs from what the code makes (npm run check runs it).`,
  { options: { check: { type: "boolean", default: false } } },
);
const check = values.check;
const file = join(ROOT, "docs", "openapi.json");
const document = openApiDocument(Object.values(await declaredRoutes()).flat());
const bin = (name: string) => join(ROOT, "node_modules", ".bin", name);
if (check) {
  const onDisk = JSON.parse(readFileSync(file, "utf8"));
  if (!isDeepStrictEqual(onDisk, JSON.parse(JSON.stringify(document)))) {
    console.error("docs/openapi.json differs from the code's document: run npm run openapi");
    process.exit(1);
  }
} else {
  writeFileSync(file, `${JSON.stringify(document, null, 2)}\n`);
  execFileSync(bin("biome"), ["format", "--write", file], { stdio: "ignore" });
}
// What serverless.yml reads from the declarations: events, throttles, alarm thresholds, metrics.
const routesFile = join(ROOT, "scripts", "serverless", "routes.json");
const routes = await serverlessRoutes();
if (check) {
  if (!isDeepStrictEqual(JSON.parse(readFileSync(routesFile, "utf8")), routes)) {
    console.error(
      "scripts/serverless/routes.json differs from the declarations: run npm run openapi",
    );
    process.exit(1);
  }
} else {
  writeFileSync(routesFile, `${JSON.stringify(routes, null, 2)}\n`);
  execFileSync(bin("biome"), ["format", "--write", routesFile], { stdio: "ignore" });
}
// The typed client's types, generated from the same document (openapi-typescript).
const types = join(ROOT, "client", "api.d.ts");
const generated = execFileSync(bin("openapi-typescript"), [file], { encoding: "utf8" });
if (check) {
  if (readFileSync(types, "utf8") !== generated) {
    console.error("client/api.d.ts differs from the document: run npm run openapi");
    process.exit(1);
  }
} else {
  writeFileSync(types, generated);
}
process.env.REDOCLY_TELEMETRY = "off";
process.env.REDOCLY_SUPPRESS_UPDATE_NOTICE = "true";
// Named, so that a missing file fails here instead of falling back to Redocly's defaults.
execFileSync(bin("redocly"), ["lint", file, "--config", join(ROOT, "redocly.yaml")], {
  stdio: "inherit",
});
execFileSync(
  bin("spectral"),
  ["lint", file, "--ruleset", join(ROOT, ".spectral.yaml"), "--fail-severity", "warn"],
  {
    stdio: "inherit",
  },
);
