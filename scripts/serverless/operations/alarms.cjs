"use strict";

/**
 * The alarms (scripts/serverless/operations.cjs), each sent to one SNS topic, with figures from
 * `custom.operations.alarms` (docs/operations.md: Runbook): API 5xx rate; p99 latency per route
 * (with detailed route metrics); errors and throttles per function; throttled requests and
 * system errors per table; the post-login hook failing; plays refused by the cooldown rising
 * sharply.
 */
const { FIVE_MINUTES, METRICS_NAMESPACE } = require("./stack.cjs");

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
const API_DIMENSIONS = [
  { Name: "ApiId", Value: { Ref: "HttpApi" } },
  { Name: "Stage", Value: "$default" },
];

const metric = (id, namespace, name, dimensions) => ({
  Id: id,
  ReturnData: false,
  MetricStat: {
    Metric: { Namespace: namespace, MetricName: name, Dimensions: dimensions },
    Period: FIVE_MINUTES,
    Stat: "Sum",
  },
});

/** The ways of alarming of one stack: to its topic, named after it. */
function alarmsOf({ resources, prefix }) {
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
  return {
    alarm,
    /** A count over 5 minutes at or above a threshold. */
    countAlarm: (id, name, description, [namespace, metricName, dimensions], threshold) =>
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
      }),
    /** An expression over several 5-minute sums against a threshold. */
    mathAlarm: (id, name, description, [comparison, threshold], metrics, expression) =>
      alarm(id, {
        AlarmName: name,
        AlarmDescription: `${description} (docs/operations.md: Runbook).`,
        ComparisonOperator: comparison,
        Threshold: threshold,
        EvaluationPeriods: 1,
        Metrics: [...metrics, { Id: "result", Expression: expression, ReturnData: true }],
      }),
    shortName: (name) => name.replace(`${prefix}-`, ""),
  };
}

function addAlarmTopic({ resources, prefix, settings }) {
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
}

function addApiAlarms({ routes, detailed }, { alarm, mathAlarm }, a) {
  // API: the share of requests answered 5xx, once there is traffic enough to mean something.
  mathAlarm(
    "ApiServerErrorRateAlarm",
    "api-5xx-rate",
    `More than ${a.apiServerErrorPercent}% of API requests answered 5xx over 5 minutes`,
    ["GreaterThanThreshold", Number(a.apiServerErrorPercent)],
    [
      metric("errors", "AWS/ApiGateway", "5xx", API_DIMENSIONS),
      metric("requests", "AWS/ApiGateway", "Count", API_DIMENSIONS),
    ],
    `IF(requests >= ${Number(a.apiMinRequests)}, 100 * errors / requests, 0)`,
  );
  // p99 latency per route (API Gateway publishes per-route metrics only when detailed).
  if (!detailed) return;
  for (const route of routes) {
    if (route.key === "$default") continue;
    const limit = Number(a.routeP99Ms?.[route.key] ?? a.routeP99Ms?.default);
    alarm(`${route.id}LatencyAlarm`, {
      AlarmName: `p99-${route.key.replace(/[^A-Za-z0-9]+/g, "-").replace(/-$/, "")}`,
      AlarmDescription: `p99 latency of ${route.key} above ${limit} ms for 15 minutes (docs/operations.md: Runbook).`,
      Namespace: "AWS/ApiGateway",
      MetricName: "Latency",
      Dimensions: [...API_DIMENSIONS, { Name: "Route", Value: route.key }],
      ExtendedStatistic: "p99",
      Period: FIVE_MINUTES,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      Threshold: limit,
      ComparisonOperator: "GreaterThanThreshold",
    });
  }
}

/**
 * Functions: an error here is a crash or a timeout (handlers answer their own 4xx and 5xx); a
 * throttle is a request Lambda refused.
 */
function addFunctionAlarms({ functions }, { countAlarm, shortName }, a) {
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
}

/** Tables: throttled requests (reads and writes) and DynamoDB's own errors. */
function addTableAlarms({ tables }, { mathAlarm, shortName }, a) {
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
}

/** Business alarms, from the functions' EMF lines. */
function addBusinessAlarms({ service, codeMetric }, { countAlarm, mathAlarm }, a) {
  const serviceDimension = [{ Name: "service", Value: service }];
  countAlarm(
    "HookFailuresAlarm",
    "post-login-hook-failing",
    `The post-login hook answered 5xx ${a.hookFailures} or more times in 5 minutes: logins go on without roles`,
    [METRICS_NAMESPACE, codeMetric("HookFailures"), serviceDimension],
    Number(a.hookFailures),
  );
  mathAlarm(
    "PlaysRefusedSpikeAlarm",
    "plays-refused-spike",
    `Over ${a.playsRefusedMin} plays refused by the cooldown in 5 minutes and more than ${a.playsRefusedPercent}% of all plays: someone is farming plays`,
    ["GreaterThanThreshold", Number(a.playsRefusedPercent)],
    [
      metric("refused", METRICS_NAMESPACE, codeMetric("PlaysRefused"), serviceDimension),
      metric("counted", METRICS_NAMESPACE, codeMetric("PlaysCounted"), serviceDimension),
    ],
    `IF(refused > ${Number(a.playsRefusedMin)}, 100 * refused / (refused + counted), 0)`,
  );
}

function addAlarms(stack) {
  addAlarmTopic(stack);
  const alarms = alarmsOf(stack);
  const thresholds = stack.settings.alarms ?? {};
  addApiAlarms(stack, alarms, thresholds);
  addFunctionAlarms(stack, alarms, thresholds);
  addTableAlarms(stack, alarms, thresholds);
  addBusinessAlarms(stack, alarms, thresholds);
}

module.exports = { addAlarms };
