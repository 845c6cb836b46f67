/**
 * The layers of docs/architecture.md, enforced in `npm run check`. Imports point one way:
 * functions -> lib/http -> lib/domain -> lib/db, with lib/auth (who the caller is) beside
 * lib/domain, and the shared base (lib/*.ts: errors, config, log, retry, metrics, ids, json,
 * and lib/schemas) below every layer. The sample app (app/) and the tooling (scripts, bench,
 * tests) sit outside and may import anything, but no cycle anywhere.
 */
const BASE = "^lib/(?:[^/]+[.]ts|schemas/)";

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-cycle",
      comment: "A cycle ties modules (or layers) together so neither can change alone.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "functions-reach-tables-through-domain",
      comment: "Route functions use lib/domain (and lib/http), never a table module directly.",
      severity: "error",
      from: { path: "^functions/" },
      to: { path: "^lib/db/" },
    },
    {
      name: "db-is-the-bottom",
      comment: "Table modules know nothing of HTTP, callers or rules: only the shared base.",
      severity: "error",
      from: { path: "^lib/db/" },
      to: { path: "^(?:functions|lib/(?:http|domain|auth))/" },
    },
    {
      name: "domain-knows-no-http",
      comment: "Rules do not depend on how they are reached (HTTP, a direct invocation).",
      severity: "error",
      from: { path: "^lib/domain/" },
      to: { path: "^(?:functions|lib/http)/" },
    },
    {
      name: "auth-stands-alone",
      comment: "Who the caller is depends on the token and the base only.",
      severity: "error",
      from: { path: "^lib/auth/" },
      to: { path: "^(?:functions|lib/(?:http|domain|db))/" },
    },
    {
      name: "base-is-below-every-layer",
      comment: "errors, config, log, retry, metrics, ids, json and schemas serve every layer.",
      severity: "error",
      from: { path: BASE, pathNot: "^lib/(?:openapi|warm-up)[.]ts$" },
      to: { path: "^(?:functions|lib/(?:http|domain|db|auth))/" },
    },
    {
      name: "lib-never-imports-tooling",
      comment: "What ships in a Lambda zip never reaches into scripts, bench, tests or the app.",
      severity: "error",
      from: { path: "^(?:functions|lib)/" },
      to: { path: "^(?:scripts|bench|tests|app)/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    combinedDependencies: false,
  },
};
