"use strict";

/**
 * The operations dashboard (scripts/serverless/operations.cjs): business metrics (EMF, the code's
 * own and those routes declare) beside requests, errors and latency of the API, its routes, the
 * functions and the tables.
 */
const { FIVE_MINUTES, METRICS_NAMESPACE } = require("./stack.cjs");

// biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub placeholder
const REGION = "${AWS::Region}";
// biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub placeholder
const API = ["ApiId", "${ApiId}", "Stage", "$default"];

const widget = (title, metrics, extra = {}) => ({
  type: "metric",
  width: 12,
  height: 6,
  properties: {
    title,
    region: REGION,
    metrics,
    period: FIVE_MINUTES,
    stat: "Sum",
    view: "timeSeries",
    ...extra,
  },
});

// One line per function, table or route, for each metric named.
const each = (items, namespace, dimension, names) =>
  items.flatMap((item) => names.map((name) => [namespace, name, dimension, item.name]));

function businessWidgets({ service, codeMetrics, routeMetrics, codeMetric }) {
  // `Unavailable` has a widget of its own, by cause.
  const unavailable = codeMetric("Unavailable");
  const business = [...codeMetrics.filter((name) => name !== unavailable), ...routeMetrics].map(
    (name) => [METRICS_NAMESPACE, name, "service", service],
  );
  return [
    widget("Business (EMF)", business),
    widget("503s by cause (EMF)", [
      [
        {
          expression: `SEARCH('{${METRICS_NAMESPACE},service,cause} MetricName="${unavailable}"', 'Sum', ${FIVE_MINUTES})`,
          id: "unavailable",
        },
      ],
    ]),
  ];
}

function apiWidgets({ routes, detailed }) {
  const widgets = [
    widget("API requests and errors", [
      ["AWS/ApiGateway", "Count", ...API],
      ["AWS/ApiGateway", "4xx", ...API],
      ["AWS/ApiGateway", "5xx", ...API],
    ]),
    widget(
      "API latency (p50, p99)",
      [
        ["AWS/ApiGateway", "Latency", ...API, { stat: "p50" }],
        ["AWS/ApiGateway", "Latency", ...API, { stat: "p99" }],
      ],
      { stat: "p99" },
    ),
  ];
  if (detailed) {
    const perRoute = routes.filter((r) => r.key !== "$default");
    const byRoute = (name) => perRoute.map((r) => ["AWS/ApiGateway", name, ...API, "Route", r.key]);
    widgets.push(
      widget("Requests per route", byRoute("Count")),
      widget("5xx per route", byRoute("5xx")),
      widget("p99 latency per route", byRoute("Latency"), { stat: "p99" }),
    );
  }
  return widgets;
}

function functionAndTableWidgets({ functions, tables }) {
  return [
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
  ];
}

/** The dashboard; `${ApiId}` and `${AWS::Region}` are filled in by CloudFormation. */
function addDashboard(stack) {
  const widgets = [
    ...businessWidgets(stack),
    ...apiWidgets(stack),
    ...functionAndTableWidgets(stack),
  ];
  stack.resources.OperationsDashboard = {
    Type: "AWS::CloudWatch::Dashboard",
    Properties: {
      DashboardName: stack.prefix,
      DashboardBody: {
        "Fn::Sub": [JSON.stringify({ widgets }), { ApiId: { Ref: "HttpApi" } }],
      },
    },
  };
}

module.exports = { addDashboard };
