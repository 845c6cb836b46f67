"use strict";

/**
 * What a team running this stack needs beside the functions, added to the CloudFormation
 * template after serverless has compiled it, from what it compiled: the routes of the HTTP API,
 * the functions and the tables, so that a new route, function or table is watched without an
 * edit here. Figures come from `custom.operations` in serverless.yml (docs/operations.md explains them):
 *
 * - an SNS topic for alarms, with an e-mail subscription when the stage sets one;
 * - alarms: API 5xx rate; p99 latency per route (with detailed route metrics); errors and
 *   throttles per function; throttled requests and system errors per table; the post-login hook
 *   failing; plays refused by the cooldown rising sharply;
 * - a dashboard: business metrics (EMF, lib/metrics.ts) beside requests, errors and latency;
 * - per-route throttles and detailed metrics on the HTTP API stage;
 * - reserved concurrency for each function the stage names;
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

    // ---- Reserved concurrency: each user-facing function (and the login hook) gets its own share
    // of the account's concurrency, so that a flood of one function cannot take the others'.
    // `reservedConcurrency` is "fn=N,fn=N" (empty: none, as a new account's 10 cannot spare it).
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
        throw new this.serverless.classes.Error(
          `custom.operations.reservedConcurrency: "${fn}=${count}" names no function or no count`,
        );
      }
      resources[id].Properties.ReservedConcurrentExecutions = Number(count);
    }

    // ---- X-Ray (provider.tracing): the per-function roles lack what Lambda needs to send
    // traces; AWS's managed policy for it, rather than a wildcard statement of our own.
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
    const metric = (id, namespace, name, dimensions) => ({
      Id: id,
      ReturnData: false,
      MetricStat: {
        Metric: { Namespace: namespace, MetricName: name, Dimensions: dimensions },
        Period: FIVE_MINUTES,
        Stat: "Sum",
      },
    });
    // A count over 5 minutes at or above a threshold.
    const countAlarm = (id, name, description, [namespace, metricName, dimensions], threshold) =>
      alarm(id, {
        AlarmName: name,
        AlarmDescription: `${description} (docs/operations.md: Runbook).`,
        Namespace: namespace,
        MetricName: metricName,
        Dimensions: dimensions,
        Statistic: "Sum",
        Period: FIVE_MINUTES,
        EvaluationPeriods: 1,
        Threshold: threshold,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
      });
    // An expression over several 5-minute sums against a threshold.
    const mathAlarm = (id, name, description, [comparison, threshold], metrics, expression) =>
      alarm(id, {
        AlarmName: name,
        AlarmDescription: `${description} (docs/operations.md: Runbook).`,
        ComparisonOperator: comparison,
        Threshold: threshold,
        EvaluationPeriods: 1,
        Metrics: [...metrics, { Id: "result", Expression: expression, ReturnData: true }],
      });
    const a = settings.alarms ?? {};
    const shortName = (name) => name.replace(`${prefix}-`, "");

    // API: the share of requests answered 5xx, once there is traffic enough to mean something.
    mathAlarm(
      "ApiServerErrorRateAlarm",
      "api-5xx-rate",
      `More than ${a.apiServerErrorPercent}% of API requests answered 5xx over 5 minutes`,
      ["GreaterThanThreshold", Number(a.apiServerErrorPercent)],
      [
        metric("errors", "AWS/ApiGateway", "5xx", apiDimensions),
        metric("requests", "AWS/ApiGateway", "Count", apiDimensions),
      ],
      `IF(requests >= ${Number(a.apiMinRequests)}, 100 * errors / requests, 0)`,
    );

    // p99 latency per route (API Gateway publishes per-route metrics only when detailed).
    if (detailed) {
      for (const route of routes) {
        if (route.key === "$default") continue;
        const limit = Number(a.routeP99Ms?.[route.key] ?? a.routeP99Ms?.default);
        alarm(`${route.id}LatencyAlarm`, {
          AlarmName: `p99-${route.key.replace(/[^A-Za-z0-9]+/g, "-").replace(/-$/, "")}`,
          AlarmDescription: `p99 latency of ${route.key} above ${limit} ms for 15 minutes (docs/operations.md: Runbook).`,
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
      countAlarm(
        `${fn.id}ErrorsAlarm`,
        `errors-${shortName(fn.name)}`,
        `${fn.name}: ${a.functionErrors} or more crashes or timeouts in 5 minutes`,
        ["AWS/Lambda", "Errors", dimensions],
        Number(a.functionErrors),
      );
      countAlarm(
        `${fn.id}ThrottlesAlarm`,
        `throttles-${shortName(fn.name)}`,
        `${fn.name}: Lambda refused invocations (concurrency exhausted)`,
        ["AWS/Lambda", "Throttles", dimensions],
        1,
      );
    }

    // Tables: throttled requests (reads and writes) and DynamoDB's own errors.
    for (const table of tables) {
      const dimensions = [{ Name: "TableName", Value: { Ref: table.id } }];
      mathAlarm(
        `${table.id}ThrottlesAlarm`,
        `ddb-throttles-${shortName(table.name)}`,
        `${table.name}: requests throttled by DynamoDB in 5 minutes`,
        ["GreaterThanOrEqualToThreshold", Number(a.tableThrottles)],
        [
          metric("reads", "AWS/DynamoDB", "ReadThrottleEvents", dimensions),
          metric("writes", "AWS/DynamoDB", "WriteThrottleEvents", dimensions),
        ],
        "reads + writes",
      );
      mathAlarm(
        `${table.id}SystemErrorsAlarm`,
        `ddb-system-errors-${shortName(table.name)}`,
        `${table.name}: DynamoDB answered 500s in 5 minutes`,
        ["GreaterThanOrEqualToThreshold", Number(a.tableSystemErrors)],
        TABLE_OPERATIONS.map((operation, i) =>
          metric(`op${i}`, "AWS/DynamoDB", "SystemErrors", [
            ...dimensions,
            { Name: "Operation", Value: operation },
          ]),
        ),
        TABLE_OPERATIONS.map((_, i) => `op${i}`).join(" + "),
      );
    }

    // Business alarms, from the functions' EMF lines.
    const serviceDimension = [{ Name: "service", Value: service.service }];
    countAlarm(
      "HookFailuresAlarm",
      "post-login-hook-failing",
      `The post-login hook answered 5xx ${a.hookFailures} or more times in 5 minutes: logins go on without roles`,
      [METRICS_NAMESPACE, "HookFailures", serviceDimension],
      Number(a.hookFailures),
    );
    mathAlarm(
      "PlaysRefusedSpikeAlarm",
      "plays-refused-spike",
      `Over ${a.playsRefusedMin} plays refused by the cooldown in 5 minutes and more than ${a.playsRefusedPercent}% of all plays: someone is farming plays`,
      ["GreaterThanThreshold", Number(a.playsRefusedPercent)],
      [
        metric("refused", METRICS_NAMESPACE, "PlaysRefused", serviceDimension),
        metric("counted", METRICS_NAMESPACE, "PlaysCounted", serviceDimension),
      ],
      `IF(refused > ${Number(a.playsRefusedMin)}, 100 * refused / (refused + counted), 0)`,
    );

    // ---- Dashboard.
    resources.OperationsDashboard = {
      Type: "AWS::CloudWatch::Dashboard",
      Properties: {
        DashboardName: prefix,
        DashboardBody: {
          "Fn::Sub": [
            JSON.stringify(
              dashboardBody({
                service: service.service,
                functions,
                tables,
                routes,
                detailed,
                routeMetrics: settings.routeMetrics ?? [],
              }),
            ),
            { ApiId: { Ref: "HttpApi" } },
          ],
        },
      },
    };
  }
}

/** The dashboard's widgets; `${ApiId}` and `${AWS::Region}` are filled in by CloudFormation. */
function dashboardBody({ service, functions, tables, routes, detailed, routeMetrics }) {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub placeholder
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
    "RateLimited",
    "HookFailures",
    "AccountsDeleted",
    "ManagementApiFailures",
    ...routeMetrics,
  ].map((name) => [METRICS_NAMESPACE, name, "service", service]);
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub placeholder
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
  // One line per function, table or route, for each metric named.
  const each = (items, namespace, dimension, names) =>
    items.flatMap((item) => names.map((name) => [namespace, name, dimension, item.name]));
  if (detailed) {
    const perRoute = routes.filter((r) => r.key !== "$default");
    const byRoute = (name) => perRoute.map((r) => ["AWS/ApiGateway", name, ...api, "Route", r.key]);
    widgets.push(
      widget("Requests per route", byRoute("Count")),
      widget("5xx per route", byRoute("5xx")),
      widget("p99 latency per route", byRoute("Latency"), { stat: "p99" }),
    );
  }
  widgets.push(
    widget(
      "Function errors and throttles",
      each(functions, "AWS/Lambda", "FunctionName", ["Errors", "Throttles"]),
    ),
    widget("Function duration p99", each(functions, "AWS/Lambda", "FunctionName", ["Duration"]), {
      stat: "p99",
    }),
    widget(
      "DynamoDB throttled requests",
      each(tables, "AWS/DynamoDB", "TableName", ["ReadThrottleEvents", "WriteThrottleEvents"]),
    ),
    widget(
      "DynamoDB consumed capacity",
      each(tables, "AWS/DynamoDB", "TableName", [
        "ConsumedReadCapacityUnits",
        "ConsumedWriteCapacityUnits",
      ]),
    ),
  );
  return { widgets };
}

module.exports = Operations;
