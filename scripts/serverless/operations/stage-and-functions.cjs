"use strict";

/**
 * What scripts/serverless/operations.cjs sets on the compiled stage and functions: per-route
 * throttles and detailed metrics on the HTTP API stage, each function's reserved concurrency,
 * and with X-Ray on, the right to send traces.
 */

/** Stage: per-route throttles and, when asked, per-route metrics. */
function configureStage({ resources, routes, settings, detailed, fail }) {
  const stage = resources.HttpApiStage;
  stage.Properties.DefaultRouteSettings = {
    ...stage.Properties.DefaultRouteSettings,
    DetailedMetricsEnabled: detailed,
  };
  const throttles = settings.routeThrottles ?? {};
  const routeSettings = {};
  for (const [key, limit] of Object.entries(throttles)) {
    const route = routes.find((r) => r.key === key);
    if (!route) {
      fail(`custom.operations.routeThrottles names "${key}", which no function serves`);
    }
    routeSettings[key] = {
      ThrottlingRateLimit: Number(limit.rate),
      ThrottlingBurstLimit: Number(limit.burst),
      DetailedMetricsEnabled: detailed,
    };
    // A route setting for a route the stage does not know yet fails the deployment.
    stage.DependsOn = [...new Set([...[stage.DependsOn ?? []].flat(), route.id])];
  }
  stage.Properties.RouteSettings = routeSettings;
}

/**
 * Reserved concurrency: each user-facing function (and the login hook) gets its own share of the
 * account's concurrency, so that a flood of one function cannot take the others'.
 * `reservedConcurrency` is "fn=N,fn=N" (empty: none, as a new account's 10 cannot spare it).
 */
function reserveConcurrency({ resources, settings, fail }) {
  const reserved = {
    ...Object.fromEntries(
      String(settings.reservedConcurrency ?? "")
        .split(",")
        .filter((part) => part.trim() !== "")
        .map((part) => part.split("=").map((side) => side.trim())),
    ),
    ...(String(settings.postLoginReservedConcurrency ?? "") === ""
      ? {}
      : { postLogin: String(settings.postLoginReservedConcurrency) }),
  };
  for (const [fn, count] of Object.entries(reserved)) {
    const id = `${fn[0].toUpperCase()}${fn.slice(1)}LambdaFunction`;
    if (!resources[id] || !/^\d+$/.test(String(count))) {
      fail(`custom.operations.reservedConcurrency: "${fn}=${count}" names no function or no count`);
    }
    resources[id].Properties.ReservedConcurrentExecutions = Number(count);
  }
}

/**
 * X-Ray (provider.tracing): the per-function roles lack what Lambda needs to send traces; AWS's
 * managed policy for it, rather than a wildcard statement of our own.
 */
function allowTracing({ resources, functions }) {
  for (const fn of functions) {
    const { Properties } = resources[fn.id];
    if (Properties.TracingConfig?.Mode !== "Active") continue;
    const role = resources[Properties.Role["Fn::GetAtt"][0]].Properties;
    role.ManagedPolicyArns = [
      ...(role.ManagedPolicyArns ?? []),
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub placeholder
      { "Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AWSXRayDaemonWriteAccess" },
    ];
  }
}

module.exports = { allowTracing, configureStage, reserveConcurrency };
