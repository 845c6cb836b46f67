import { rmSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { METRIC_NAMES } from "../../lib/metrics.ts";
import {
  FUNCTIONS,
  type Json,
  logicalName,
  packageProd,
  resourcesOf,
  roleOf,
  type Template,
} from "../helpers/template.ts";

/**
 * What scripts/serverless/operations.cjs and the edge option add to the CloudFormation template
 * of `serverless package --stage prod` (docs/operations.md): the stage's limits, reserved
 * concurrency, access logs and X-Ray, the alarms and the dashboard, CloudFront and its WAF. The
 * rest of the template is tests/deploy/template.test.ts's.
 */
let template: Template;

beforeAll(async () => {
  const packaged = await packageProd();
  template = packaged.template;
  rmSync(packaged.packageDir, { recursive: true, force: true });
}, 180_000);

const resources = (type: string) => resourcesOf(template, type);
const stage = () => template.Resources.HttpApiStage;
const alarms = () =>
  resources("AWS::CloudWatch::Alarm").map(([id, r]) => ({ id, ...r.Properties }));
const routeId = (key: string) =>
  resources("AWS::ApiGatewayV2::Route").find(([, r]) => r.Properties.RouteKey === key)?.[0];

describe("operations: the stage's limits, its logs and X-Ray (docs/operations.md)", () => {
  it("gives the anonymous routes a budget of their own, and no authenticated route a shared one", () => {
    const settings = stage().Properties.RouteSettings;
    // A route's budget is every caller's: one account looping plays would use it up for all.
    // Each caller has a budget of their own in the functions (per-caller limits) instead.
    const abused = ["GET /openapi.json", "GET /health", "$default"];
    expect(Object.keys(settings).sort()).toEqual([...abused].sort());
    for (const key of abused) {
      expect(settings[key].ThrottlingRateLimit).toBeLessThan(1000);
      expect(settings[key].ThrottlingBurstLimit).toBeLessThan(2000);
      // The stage waits for the route: a setting for an unknown route fails the deployment.
      expect(stage().DependsOn).toContain(routeId(key));
    }
    // Logins are not throttled on their own: they keep the stage-wide budget.
    expect(settings["POST /hooks/post-login"]).toBeUndefined();
  });

  it("reserves concurrency for the post-login hook and each user-facing function, within what AWS leaves unreserved", () => {
    const reservedOf = (fn: string) =>
      template.Resources[`${logicalName(fn)}LambdaFunction`].Properties
        .ReservedConcurrentExecutions;
    expect(reservedOf("postLogin")).toBe(25);
    const userFacing = ["displayName", "users", "songs", "playlists", "getPlays", "getFavGenre"];
    for (const fn of userFacing) expect(reservedOf(fn)).toBeGreaterThan(0);
    const total = FUNCTIONS.reduce((sum, fn) => sum + (reservedOf(fn) ?? 0), 0);
    // An account's default concurrency is 1,000, of which AWS keeps 100 unreserved.
    expect(total).toBeLessThanOrEqual(900);
    expect(template.Resources.EdgeDistribution).toBeUndefined();
  });

  it("writes JSON access logs without the Authorization header, kept 90 days", () => {
    const { AccessLogSettings } = stage().Properties;
    expect(AccessLogSettings.DestinationArn).toEqual({ "Fn::GetAtt": ["HttpApiLogGroup", "Arn"] });
    const fields = JSON.parse(AccessLogSettings.Format);
    expect(fields).toMatchObject({
      requestId: "$context.requestId",
      routeKey: "$context.routeKey",
      status: "$context.status",
      latencyMs: "$context.responseLatency",
      integrationError: "$context.integrationErrorMessage",
    });
    expect(AccessLogSettings.Format.toLowerCase()).not.toContain("authorization");
    expect(AccessLogSettings.Format).not.toContain("claims");
    expect(template.Resources.HttpApiLogGroup.Properties.RetentionInDays).toBe(90);
  });

  it("leaves X-Ray off unless the stage asks for it, and then lets every function send traces", async () => {
    for (const fn of FUNCTIONS) {
      const { TracingConfig } = template.Resources[`${logicalName(fn)}LambdaFunction`].Properties;
      expect(TracingConfig?.Mode ?? "PassThrough").toBe("PassThrough");
    }
    const traced = (await packageProd({ tracing: "true" })).template;
    for (const fn of FUNCTIONS) {
      const { Properties } = traced.Resources[`${logicalName(fn)}LambdaFunction`];
      expect(Properties.TracingConfig).toEqual({ Mode: "Active" });
      expect(traced.Resources[roleOf(traced, fn)].Properties.ManagedPolicyArns).toEqual([
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub placeholder
        { "Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AWSXRayDaemonWriteAccess" },
      ]);
    }
  }, 120_000);
});

describe("operations: alarms and the dashboard (docs/operations.md)", () => {
  it("sends every alarm to one SNS topic", () => {
    expect(template.Resources.AlarmTopic.Type).toBe("AWS::SNS::Topic");
    // No e-mail set for this package: the topic has no subscription to confirm.
    expect(resources("AWS::SNS::Subscription")).toEqual([]);
    for (const alarm of alarms()) {
      expect(alarm.AlarmActions, alarm.id).toEqual([{ Ref: "AlarmTopic" }]);
      expect(alarm.AlarmDescription, alarm.id).toContain("Runbook");
    }
  });

  it("alarms on the API's 5xx rate and on each route's p99 latency", () => {
    const rate = alarms().find((a) => a.id === "ApiServerErrorRateAlarm");
    expect(rate?.Metrics.map((m: Json) => m.MetricStat?.Metric.MetricName ?? m.Expression)).toEqual(
      ["5xx", "Count", "IF(requests >= 50, 100 * errors / requests, 0)"],
    );
    const routes = resources("AWS::ApiGatewayV2::Route")
      .map(([, r]) => r.Properties.RouteKey)
      .filter((key) => key !== "$default");
    const latency = alarms().filter((a) => a.MetricName === "Latency");
    expect(latency.map((a) => a.Dimensions.at(-1).Value).sort()).toEqual(routes.sort());
    for (const alarm of latency) expect(alarm.ExtendedStatistic).toBe("p99");
  });

  it("alarms on errors and throttles of every function and of every table", () => {
    for (const fn of FUNCTIONS) {
      const ref = { Ref: `${logicalName(fn)}LambdaFunction` };
      for (const metric of ["Errors", "Throttles"]) {
        expect(
          alarms().some((a) => a.MetricName === metric && a.Dimensions[0].Value.Ref === ref.Ref),
          `${fn} ${metric}`,
        ).toBe(true);
      }
    }
    for (const [table] of resources("AWS::DynamoDB::Table")) {
      const watched = alarms()
        .filter((a) =>
          a.Metrics?.some((m: Json) => m.MetricStat?.Metric.Dimensions[0].Value.Ref === table),
        )
        .flatMap((a) => a.Metrics.map((m: Json) => m.MetricStat?.Metric.MetricName))
        .filter(Boolean);
      expect(new Set(watched), table).toEqual(
        new Set(["ReadThrottleEvents", "WriteThrottleEvents", "SystemErrors"]),
      );
    }
  });

  it("alarms when the post-login hook fails and when refused plays spike", () => {
    const hook = alarms().find((a) => a.id === "HookFailuresAlarm");
    expect(hook).toMatchObject({ Namespace: "MusicUserData", MetricName: "HookFailures" });
    const farming = alarms().find((a) => a.id === "PlaysRefusedSpikeAlarm");
    expect(
      farming?.Metrics.map((m: Json) => m.MetricStat?.Metric.MetricName).filter(Boolean),
    ).toEqual(["PlaysRefused", "PlaysCounted"]);
  });

  it("has a dashboard of the business metrics beside requests, errors and latency per route", () => {
    const body = template.Resources.OperationsDashboard.Properties.DashboardBody["Fn::Sub"][0];
    const titles = JSON.parse(body).widgets.map((w: Json) => w.properties.title);
    expect(titles).toEqual(
      expect.arrayContaining([
        "Business (EMF)",
        "503s by cause (EMF)",
        "Requests per route",
        "5xx per route",
        "p99 latency per route",
        "Function errors and throttles",
        "DynamoDB throttled requests",
      ]),
    );
    // Every metric the code writes (lib/metrics.ts) and every one a route declares (`counts`)
    // is on it without an edit of the dashboard; `Unavailable` has a widget of its own, by cause.
    const business = JSON.parse(body).widgets.find(
      (w: Json) => w.properties.title === "Business (EMF)",
    );
    expect(business.properties.metrics.map((m: string[]) => m[1])).toEqual([
      ...METRIC_NAMES.filter((name) => name !== "Unavailable"),
      "ExportPages",
    ]);
  });
});

describe("the edge option (edgeRequestsPerMinute)", () => {
  let edged: Template;
  beforeAll(async () => {
    const packaged = await packageProd({ edgeRequestsPerMinute: "600" });
    edged = packaged.template;
    rmSync(packaged.packageDir, { recursive: true, force: true });
  }, 180_000);

  it("puts CloudFront with a WAF web ACL in front of the HTTP API, rate-limited per bearer token and per address", () => {
    const acl = edged.Resources.EdgeWebAcl.Properties;
    expect(acl.Scope).toBe("CLOUDFRONT");
    const [perToken, perIp] = acl.Rules;
    expect(perToken.Statement.RateBasedStatement).toMatchObject({
      Limit: 600,
      EvaluationWindowSec: 60,
      AggregateKeyType: "CUSTOM_KEYS",
      CustomKeys: [{ Header: { Name: "authorization" } }],
    });
    expect(perIp.Statement.RateBasedStatement).toMatchObject({ AggregateKeyType: "IP" });
    // Refused at the edge in the API's own error shape.
    const body = JSON.parse(acl.CustomResponseBodies.rate_limited.Content);
    expect(body).toMatchObject({ statusCode: 429, errorCode: "rate_limited" });
    expect(perToken.Action.Block.CustomResponse.ResponseCode).toBe(429);
    const config = edged.Resources.EdgeDistribution.Properties.DistributionConfig;
    expect(config.WebACLId).toEqual({ "Fn::GetAtt": ["EdgeWebAcl", "Arn"] });
    expect(JSON.stringify(config.Origins[0].DomainName)).toContain("HttpApi");
    expect(config.DefaultCacheBehavior.AllowedMethods).toContain("PATCH");
  });
});
