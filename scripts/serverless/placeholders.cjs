"use strict";

/**
 * The placeholders of the docs (`YOUR_TENANT`, `YOUR_...`, an angle-bracketed `<api-id>`): one
 * rule, for `serverless package` (check-deploy-params.cjs) and `npm run app:build` alike, so a
 * value copied from the docs as printed is refused before anything is built or deployed.
 */
const PLACEHOLDER = /YOUR_|<[^<>]*>/;

/** The names among `values` whose value still holds a placeholder of the docs. */
function placeholdersIn(values) {
  return Object.entries(values)
    .filter(([, value]) => typeof value === "string" && PLACEHOLDER.test(value))
    .map(([name]) => name);
}

module.exports = { placeholdersIn };
