/**
 * The layers of docs/architecture.md, enforced in `npm run check`. Imports point one way:
 * functions -> lib/http -> lib/domain -> lib/db (a layer may skip those below it: no module only
 * passes another's exports on), with lib/auth (who the caller is) beside lib/domain, and the
 * shared base below every layer: lib/*.ts (errors, config, log, retry, metrics, ids, json),
 * lib/schemas, lib/kinds (the item kinds' declarations), lib/secrets (SSM), lib/auth0 (the
 * Management API call) and lib/instrumentation (the tests' call recorder). lib/lambda's warm-up
 * sits above them all: it opens what a function's first request needs (the key set, the
 * connection). The sample app (app/) and the tooling (scripts, bench, tests) sit outside and may
 * import anything, but no cycle anywhere.
 */
const BASE = "^lib/(?:[^/]+[.]ts|(?:schemas|kinds|secrets|auth0|instrumentation)/)";

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
      name: "functions-use-table-operations",
      comment:
        "A route function may call a table module's operation whose rules are conditions of its own write (a quota, a cooldown) with no lib/domain module passing it on, but never sends DynamoDB requests itself.",
      severity: "error",
      from: { path: "^functions/" },
      to: { path: ["^lib/db/client[.]ts$", "^node_modules/@aws-sdk/"] },
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
      comment:
        "errors, config, log, retry, metrics, ids, json, schemas, secrets serve every layer.",
      severity: "error",
      from: { path: BASE },
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
