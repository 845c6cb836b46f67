"use strict";

/**
 * What a team running this stack needs beside the functions, added to the CloudFormation
 * template after serverless has compiled it, from what it compiled: the routes of the HTTP API,
 * the functions and the tables, so that a new route, function or table is watched without an
 * edit here. Figures come from `custom.operations` in serverless.yml (docs/operations.md explains
 * them), the business metrics from the code (lib/metrics.ts and the routes' `counts`, through
 * scripts/serverless/routes.json). Each part is built in operations/:
 *
 * - per-route throttles and detailed metrics on the HTTP API stage, reserved concurrency for
 *   each function the stage names, and with X-Ray on, the right to send traces for every
 *   function's role (stage-and-functions.cjs);
 * - an SNS topic for alarms, with an e-mail subscription when the stage sets one, and the
 *   alarms (alarms.cjs);
 * - a dashboard: business metrics (EMF) beside requests, errors and latency (dashboard.cjs).
 */
const { addAlarms } = require("./operations/alarms.cjs");
const { addDashboard } = require("./operations/dashboard.cjs");
const { compiledStack } = require("./operations/stack.cjs");
const {
  allowTracing,
  configureStage,
  reserveConcurrency,
} = require("./operations/stage-and-functions.cjs");

class Operations {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      "after:aws:package:finalize:mergeCustomProviderResources": () => this.addResources(),
    };
  }

  addResources() {
    const stack = compiledStack(this.serverless);
    configureStage(stack);
    reserveConcurrency(stack);
    allowTracing(stack);
    addAlarms(stack);
    addDashboard(stack);
  }
}

module.exports = Operations;
