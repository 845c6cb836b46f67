"use strict";

/**
 * What serverless compiled that the operations are built from (scripts/serverless/operations.cjs):
 * the template's routes, functions and tables, `custom.operations` of serverless.yml, and the
 * business metrics the code writes and its routes declare (read from the code into
 * scripts/serverless/routes.json by `npm run openapi`).
 */
const METRICS_NAMESPACE = "MusicUserData";
const FIVE_MINUTES = 300;

function compiledStack(serverless) {
  const service = serverless.service;
  const settings = service.custom?.operations ?? {};
  const resources = service.provider.compiledCloudFormationTemplate.Resources;
  const ofType = (type) =>
    Object.entries(resources).filter(([, resource]) => resource.Type === type);
  const fail = (message) => {
    throw new serverless.classes.Error(message);
  };
  const codeMetrics = settings.metrics?.code ?? [];
  return {
    service: service.service,
    prefix: `${service.service}-${service.provider.stage}`,
    settings,
    resources,
    routes: ofType("AWS::ApiGatewayV2::Route").map(([id, r]) => ({
      id,
      key: r.Properties.RouteKey,
    })),
    functions: ofType("AWS::Lambda::Function").map(([id, r]) => ({
      id,
      name: r.Properties.FunctionName,
    })),
    tables: ofType("AWS::DynamoDB::Table").map(([id, r]) => ({
      id,
      name: r.Properties.TableName,
    })),
    detailed: settings.detailedRouteMetrics === true || settings.detailedRouteMetrics === "true",
    codeMetrics,
    routeMetrics: settings.metrics?.routes ?? [],
    fail,
    /** `name`, a metric the code writes (lib/metrics.ts): an alarm or a widget on any other would watch nothing. */
    codeMetric(name) {
      if (!codeMetrics.includes(name)) {
        fail(`custom.operations.metrics.code lacks "${name}": lib/metrics.ts no longer writes it`);
      }
      return name;
    },
  };
}

module.exports = { compiledStack, FIVE_MINUTES, METRICS_NAMESPACE };
