"use strict";

/**
 * What a team running this stack needs beside the functions, added to the CloudFormation
 * template after serverless has compiled it, from what it compiled: the routes of the HTTP API,
 * the functions and the tables, so that a new route, function or table is watched without an
 * edit here. Figures come from `custom.operations` in serverless.yml (the README explains them):
 *
 * - an SNS topic for alarms, with an e-mail subscription when the stage sets one;
 * - alarms: API 5xx rate; p99 latency per route (with detailed route metrics); errors and
 *   throttles per function; throttled requests and system errors per table; the post-login hook
 *   failing; plays refused by the cooldown rising sharply;
 * - a dashboard: business metrics (EMF, lib/metrics.ts) beside requests, errors and latency;
 * - per-route throttles and detailed metrics on the HTTP API stage;
 * - reserved concurrency for the post-login hook;
 * - with X-Ray on, the right to send traces for every function's role.
 */
const METRICS_NAMESPACE = "MusicUserData";
// The operations a table's system errors are counted under (CloudWatch has no total).
const TABLE_OPERATIONS = [
  "GetItem",
  "PutItem",
  "UpdateItem",
  "DeleteItem",
  "Query",
  "Scan",
  "BatchGetItem",
  "BatchWriteItem",
  "TransactWriteItems",
];
const FIVE_MINUTES = 300;

class Operations {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      "after:aws:package:finalize:mergeCustomProviderResources": () => this.addResources(),
    };
  }

  addResources() {
    const service = this.serverless.service;
    const settings = service.custom?.operations ?? {};
    const template = service.provider.compiledCloudFormationTemplate;
    const resources = template.Resources;
    const prefix = `${service.service}-${service.provider.stage}`;
    const ofType = (type) =>
      Object.entries(resources).filter(([, resource]) => resource.Type === type);

    const routes = ofType("AWS::ApiGatewayV2::Route").map(([id, r]) => ({
      id,
      key: r.Properties.RouteKey,
    }));
    const functions = ofType("AWS::Lambda::Function").map(([id, r]) => ({
      id,
      name: r.Properties.FunctionName,
    }));
    const tables = ofType("AWS::DynamoDB::Table").map(([id, r]) => ({
      id,
      name: r.Properties.TableName,
    }));
    const apiDimensions = [
      { Name: "ApiId", Value: { Ref: "HttpApi" } },
      { Name: "Stage", Value: "$default" },
    ];
    const detailed =
      settings.detailedRouteMetrics === true || settings.detailedRouteMetrics === "true";

    // ---- Stage: per-route throttles and, when asked, per-route metrics.
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
        throw new this.serverless.classes.Error(
          `custom.operations.routeThrottles names "${key}", which no function serves`,
        );
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

    // ---- Reserved concurrency for the login hook: a flood elsewhere cannot take its capacity.
    const reserved = String(settings.postLoginReservedConcurrency ?? "");
    if (reserved !== "") {
      resources.PostLoginLambdaFunction.Properties.ReservedConcurrentExecutions = Number(reserved);
    }

    // ---- X-Ray (provider.tracing): the per-function roles lack what Lambda needs to send
    // traces; AWS's managed policy for it, rather than a wildcard statement of our own.
    for (const fn of functions) {
      const { Properties } = resources[fn.id];
      if (Properties.TracingConfig?.Mode !== "Active") continue;
      const role = resources[Properties.Role["Fn::GetAtt"][0]].Properties;
      role.ManagedPolicyArns = [
        ...(role.ManagedPolicyArns ?? []),
        { "Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AWSXRayDaemonWriteAccess" },
      ];
    }

    // ---- Alarm topic.
    resources.AlarmTopic = {
      Type: "AWS::SNS::Topic",
      Properties: { TopicName: `${prefix}-alarms`, DisplayName: `${prefix} alarms` },
    };
    if (settings.alarmEmail) {
      resources.AlarmEmailSubscription = {
        Type: "AWS::SNS::Subscription",
        Properties: {
          TopicArn: { Ref: "AlarmTopic" },
          Protocol: "email",
          Endpoint: settings.alarmEmail,
        },
      };
    }
    const alarm = (id, properties) => {
      resources[id] = {
        Type: "AWS::CloudWatch::Alarm",
        Properties: {
          AlarmActions: [{ Ref: "AlarmTopic" }],
          OKActions: [{ Ref: "AlarmTopic" }],
          TreatMissingData: "notBreaching",
          ...properties,
          AlarmName: `${prefix}-${properties.AlarmName}`,
        },
      };
    };
    const metric = (id, namespace, name, dimensions, stat = "Sum") => ({
      Id: id,
      ReturnData: false,
      MetricStat: {
        Metric: { Namespace: namespace, MetricName: name, Dimensions: dimensions },
        Period: FIVE_MINUTES,
        Stat: stat,
      },
    });
    const a = settings.alarms ?? {};

    // API: the share of requests answered 5xx, once there is traffic enough to mean something.
    alarm("ApiServerErrorRateAlarm", {
      AlarmName: "api-5xx-rate",
      AlarmDescription: `More than ${a.apiServerErrorPercent}% of API requests answered 5xx over 5 minutes (README: Runbook).`,
      ComparisonOperator: "GreaterThanThreshold",
      Threshold: Number(a.apiServerErrorPercent),
      EvaluationPeriods: 1,
      Metrics: [
        metric("errors", "AWS/ApiGateway", "5xx", apiDimensions),
        metric("requests", "AWS/ApiGateway", "Count", apiDimensions),
        {
          Id: "rate",
          Label: "5xx %",
          Expression: `IF(requests >= ${Number(a.apiMinRequests)}, 100 * errors / requests, 0)`,
          ReturnData: true,
        },
      ],
    });

    // p99 latency per route (API Gateway publishes per-route metrics only when detailed).
    if (detailed) {
      for (const route of routes) {
        if (route.key === "$default") continue;
        const limit = Number(a.routeP99Ms?.[route.key] ?? a.routeP99Ms?.default);
        alarm(`${route.id}LatencyAlarm`, {
          AlarmName: `p99-${route.key.replace(/[^A-Za-z0-9]+/g, "-").replace(/-$/, "")}`,
          AlarmDescription: `p99 latency of ${route.key} above ${limit} ms for 15 minutes (README: Runbook).`,
          Namespace: "AWS/ApiGateway",
          MetricName: "Latency",
          Dimensions: [...apiDimensions, { Name: "Route", Value: route.key }],
          ExtendedStatistic: "p99",
          Period: FIVE_MINUTES,
          EvaluationPeriods: 3,
          DatapointsToAlarm: 3,
          Threshold: limit,
          ComparisonOperator: "GreaterThanThreshold",
        });
      }
    }

    // Functions: an error here is a crash or a timeout (handlers answer their own 4xx and 5xx);
    // a throttle is a request Lambda refused.
    for (const fn of functions) {
      const dimensions = [{ Name: "FunctionName", Value: { Ref: fn.id } }];
      alarm(`${fn.id}ErrorsAlarm`, {
        AlarmName: `errors-${fn.name.replace(`${prefix}-`, "")}`,
        AlarmDescription: `${fn.name}: ${a.functionErrors} or more crashes or timeouts in 5 minutes (README: Runbook).`,
        Namespace: "AWS/Lambda",
        MetricName: "Errors",
        Dimensions: dimensions,
        Statistic: "Sum",
        Period: FIVE_MINUTES,
        EvaluationPeriods: 1,
        Threshold: Number(a.functionErrors),
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
      });
      alarm(`${fn.id}ThrottlesAlarm`, {
        AlarmName: `throttles-${fn.name.replace(`${prefix}-`, "")}`,
        AlarmDescription: `${fn.name}: Lambda refused invocations (concurrency exhausted) (README: Runbook).`,
        Namespace: "AWS/Lambda",
        MetricName: "Throttles",
        Dimensions: dimensions,
        Statistic: "Sum",
        Period: FIVE_MINUTES,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
      });
    }

    // Tables: throttled requests (reads and writes) and DynamoDB's own errors.
    for (const table of tables) {
      const dimensions = [{ Name: "TableName", Value: { Ref: table.id } }];
      alarm(`${table.id}ThrottlesAlarm`, {
        AlarmName: `ddb-throttles-${table.name.replace(`${prefix}-`, "")}`,
        AlarmDescription: `${table.name}: requests throttled by DynamoDB in 5 minutes (README: Runbook).`,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
        Threshold: Number(a.tableThrottles),
        EvaluationPeriods: 1,
        Metrics: [
          metric("reads", "AWS/DynamoDB", "ReadThrottleEvents", dimensions),
          metric("writes", "AWS/DynamoDB", "WriteThrottleEvents", dimensions),
          { Id: "throttled", Expression: "reads + writes", Label: "throttled", ReturnData: true },
        ],
      });
      alarm(`${table.id}SystemErrorsAlarm`, {
        AlarmName: `ddb-system-errors-${table.name.replace(`${prefix}-`, "")}`,
        AlarmDescription: `${table.name}: DynamoDB answered 500s in 5 minutes (README: Runbook).`,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
        Threshold: Number(a.tableSystemErrors),
        EvaluationPeriods: 1,
        Metrics: [
          ...TABLE_OPERATIONS.map((operation, i) =>
            metric(`op${i}`, "AWS/DynamoDB", "SystemErrors", [
              ...dimensions,
              { Name: "Operation", Value: operation },
            ]),
          ),
          {
            Id: "errors",
            Expression: TABLE_OPERATIONS.map((_, i) => `op${i}`).join(" + "),
            Label: "system errors",
            ReturnData: true,
          },
        ],
      });
    }

    // Business alarms, from the functions' EMF lines.
    const serviceDimension = [{ Name: "service", Value: service.service }];
    alarm("HookFailuresAlarm", {
      AlarmName: "post-login-hook-failing",
      AlarmDescription: `The post-login hook answered 5xx ${a.hookFailures} or more times in 5 minutes: logins go on without roles (README: Runbook).`,
      Namespace: METRICS_NAMESPACE,
      MetricName: "HookFailures",
      Dimensions: serviceDimension,
      Statistic: "Sum",
      Period: FIVE_MINUTES,
      EvaluationPeriods: 1,
      Threshold: Number(a.hookFailures),
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
    });
    alarm("PlaysRefusedSpikeAlarm", {
      AlarmName: "plays-refused-spike",
      AlarmDescription: `Over ${a.playsRefusedMin} plays refused by the cooldown in 5 minutes and more than ${a.playsRefusedPercent}% of all plays: someone is farming plays (README: Runbook).`,
      ComparisonOperator: "GreaterThanThreshold",
      Threshold: Number(a.playsRefusedPercent),
      EvaluationPeriods: 1,
      Metrics: [
        metric("refused", METRICS_NAMESPACE, "PlaysRefused", serviceDimension),
        metric("counted", METRICS_NAMESPACE, "PlaysCounted", serviceDimension),
        {
          Id: "share",
          Label: "refused %",
          Expression: `IF(refused > ${Number(a.playsRefusedMin)}, 100 * refused / (refused + counted), 0)`,
          ReturnData: true,
        },
      ],
    });

    // ---- Dashboard.
    resources.OperationsDashboard = {
      Type: "AWS::CloudWatch::Dashboard",
      Properties: {
        DashboardName: prefix,
        DashboardBody: {
          "Fn::Sub": [
            JSON.stringify(
              dashboardBody({ service: service.service, functions, tables, routes, detailed }),
            ),
            { ApiId: { Ref: "HttpApi" } },
          ],
        },
      },
    };
  }
}

/** The dashboard's widgets; `${ApiId}` and `${AWS::Region}` are filled in by CloudFormation. */
function dashboardBody({ service, functions, tables, routes, detailed }) {
  const region = "${AWS::Region}";
  const widget = (title, metrics, extra = {}) => ({
    type: "metric",
    width: 12,
    height: 6,
    properties: {
      title,
      region,
      metrics,
      period: FIVE_MINUTES,
      stat: "Sum",
      view: "timeSeries",
      ...extra,
    },
  });
  const business = [
    "Logins",
    "RolesGranted",
    "RolesRemoved",
    "PlaysCounted",
    "PlaysRefused",
    "IdempotentReplays",
    "QuotaRefusals",
    "HookFailures",
  ].map((name) => [METRICS_NAMESPACE, name, "service", service]);
  const api = ["ApiId", "${ApiId}", "Stage", "$default"];
  const widgets = [
    widget("Business (EMF)", business),
    widget("503s by cause (EMF)", [
      [
        {
          expression: `SEARCH('{${METRICS_NAMESPACE},service,cause} MetricName="Unavailable"', 'Sum', ${FIVE_MINUTES})`,
          id: "unavailable",
        },
      ],
    ]),
    widget("API requests and errors", [
      ["AWS/ApiGateway", "Count", ...api],
      ["AWS/ApiGateway", "4xx", ...api],
      ["AWS/ApiGateway", "5xx", ...api],
    ]),
    widget(
      "API latency (p50, p99)",
      [
        ["AWS/ApiGateway", "Latency", ...api, { stat: "p50" }],
        ["AWS/ApiGateway", "Latency", ...api, { stat: "p99" }],
      ],
      { stat: "p99" },
    ),
  ];
  if (detailed) {
    const perRoute = routes.filter((r) => r.key !== "$default");
    widgets.push(
      widget(
        "Requests per route",
        perRoute.map((r) => ["AWS/ApiGateway", "Count", ...api, "Route", r.key]),
      ),
      widget(
        "5xx per route",
        perRoute.map((r) => ["AWS/ApiGateway", "5xx", ...api, "Route", r.key]),
      ),
      widget(
        "p99 latency per route",
        perRoute.map((r) => ["AWS/ApiGateway", "Latency", ...api, "Route", r.key]),
        { stat: "p99" },
      ),
    );
  }
  widgets.push(
    widget(
      "Function errors and throttles",
      functions.flatMap((f) => [
        ["AWS/Lambda", "Errors", "FunctionName", f.name],
        ["AWS/Lambda", "Throttles", "FunctionName", f.name],
      ]),
    ),
    widget(
      "Function duration p99",
      functions.map((f) => ["AWS/Lambda", "Duration", "FunctionName", f.name]),
      { stat: "p99" },
    ),
    widget(
      "DynamoDB throttled requests",
      tables.flatMap((t) => [
        ["AWS/DynamoDB", "ReadThrottleEvents", "TableName", t.name],
        ["AWS/DynamoDB", "WriteThrottleEvents", "TableName", t.name],
      ]),
    ),
    widget(
      "DynamoDB consumed capacity",
      tables.flatMap((t) => [
        ["AWS/DynamoDB", "ConsumedReadCapacityUnits", "TableName", t.name],
        ["AWS/DynamoDB", "ConsumedWriteCapacityUnits", "TableName", t.name],
      ]),
    ),
  );
  return { widgets };
}

module.exports = Operations;
