import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildBare } from "../../bench/bundles.ts";
import { deflatedZipBytes } from "../../bench/zips.ts";
import { loadHttpRoutes, ROOT, SERVERLESS_BIN } from "../../scripts/local/serverless-config.ts";
import {
  FUNCTIONS,
  type Json,
  logicalName,
  packageEnv,
  packageProd,
  roleOf,
  run,
  SAMPLE,
  type Template,
} from "../helpers/template.ts";

/**
 * `serverless package --stage prod` with sample Auth0 values, offline and without AWS
 * credentials, and the CloudFormation template it produces, checked resource by resource. What
 * each role allows is proven against the calls the code makes by tests/deploy/iam.test.ts.
 */
let template: Template;
let packageDir: string;

/** The header parameters and response headers the API document declares, each sorted. */
function documentedHeaders(): { requestHeaders: string[]; responseHeaders: string[] } {
  const document = JSON.parse(readFileSync(join(ROOT, "docs", "openapi.json"), "utf8")) as Json;
  const requestHeaders = new Set<string>();
  const responseHeaders = new Set<string>();
  for (const path of Object.values(document.paths) as Json[]) {
    for (const operation of Object.values(path) as Json[]) {
      for (const parameter of operation.parameters ?? []) {
        if (parameter.in === "header") requestHeaders.add(parameter.name);
      }
      for (const response of Object.values(operation.responses ?? {}) as Json[]) {
        for (const name of Object.keys(response.headers ?? {})) responseHeaders.add(name);
      }
    }
  }
  return {
    requestHeaders: [...requestHeaders].sort(),
    responseHeaders: [...responseHeaders].sort(),
  };
}

function resources(type: string): [string, Json][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

beforeAll(async () => {
  ({ packageDir, template } = await packageProd());
}, 180_000);

describe("deploy parameters", () => {
  it("refuses to package a stage without the Auth0 values, saying what to set", async () => {
    const failure = await run(process.execPath, [SERVERLESS_BIN, "package", "--stage", "staging"], {
      cwd: ROOT,
      env: packageEnv({}),
    }).then(
      () => undefined,
      (error: { stdout: string; stderr: string }) => `${error.stdout}${error.stderr}`,
    );
    expect(failure).toContain('Stage "staging" cannot be packaged or deployed yet');
    expect(failure).toContain("AUTH_ISSUER");
    expect(failure).toContain("AUTH_AUDIENCE");
  }, 120_000);

  it("refuses to package a cursor or Management API secret in plain text, pointing to SSM", async () => {
    // The dev stage is the one that reads the secrets (for npm start); prod ignores them.
    const failure = await run(process.execPath, [SERVERLESS_BIN, "package", "--stage", "dev"], {
      cwd: ROOT,
      env: packageEnv({
        ...SAMPLE,
        CURSOR_SECRET: "a-secret-that-would-end-up-in-the-template",
        AUTH0_MGMT_CLIENT_ID: "an-m2m-client",
        AUTH0_MGMT_CLIENT_SECRET: "another-secret-that-would-end-up-in-the-template",
      }),
    }).then(
      () => undefined,
      (error: { stdout: string; stderr: string }) => `${error.stdout}${error.stderr}`,
    );
    expect(failure).toContain("CURSOR_SECRET is for local runs only");
    expect(failure).toContain("AUTH0_MGMT_CLIENT_SECRET is for local runs only");
  }, 120_000);

  it("passes the stage's values to every function", () => {
    for (const fn of FUNCTIONS) {
      const env =
        template.Resources[`${logicalName(fn)}LambdaFunction`].Properties.Environment.Variables;
      expect(env).toMatchObject({
        AUTH_ISSUER: SAMPLE.AUTH_ISSUER,
        AUTH_AUDIENCE: SAMPLE.AUTH_AUDIENCE,
        // Empty: the functions apply the contract's defaults (DEFAULTS in lib/config.ts).
        PLAYLIST_EDITOR_MIN_PLAYS: "",
        PLAY_COOLDOWN_SECONDS: "",
        MAX_SONGS_PER_USER: "",
        MAX_PLAYLISTS_PER_USER: "",
        MAX_FEATURED_PER_EDITOR: "",
        FEATURED_CACHE_SECONDS: "",
        PROFILES_TABLE: "music-user-data-prod-profiles",
        DYNAMODB_ENDPOINT: "",
        // The test instrumentation stays off when deployed.
        DYNAMODB_CALL_LOG_DIR: "",
      });
    }
  });
});

describe("functions", () => {
  it.each(FUNCTIONS)(
    "%s: nodejs24.x on arm64, bounded memory and timeout, source maps not loaded",
    (fn) => {
      const { Properties } = template.Resources[`${logicalName(fn)}LambdaFunction`];
      expect(Properties.Runtime).toBe("nodejs24.x");
      expect(Properties.Architectures).toEqual(["arm64"]);
      expect(Properties.MemorySize).toBe(512);
      expect(Properties.Timeout).toBeLessThanOrEqual(29);
      expect(Properties.Environment.Variables.NODE_OPTIONS ?? "").not.toContain(
        "enable-source-maps",
      );
    },
  );

  it.each(FUNCTIONS)("%s: its own log group with a retention", (fn) => {
    expect(template.Resources[`${logicalName(fn)}LogGroup`].Properties.RetentionInDays).toBe(90);
  });

  // serverless-esbuild put every function's chunks in every zip (with splitting, each build
  // writes its chunks into one folder); patches/serverless-esbuild+1.57.2.patch packs only the
  // function's own build. esbuild may leave an orphan chunk of its own build (a dynamic import
  // it shook away, such as the SDK's browser-only bowser): a few percent, not the half of a zip.
  it.each(FUNCTIONS)(
    "%s: its zip holds what its handler loads, not other functions' chunks",
    async (fn) => {
      const dir = mkdtempSync(join(tmpdir(), `zip-${fn}-`));
      try {
        await run("unzip", ["-q", join(packageDir, `${fn}.zip`), "-d", dir]);
        const folder = join(dir, "functions");
        const files = readdirSync(folder).filter((file) => file.endsWith(".mjs"));
        const reached = new Set<string>();
        const pending = [`${fn}.mjs`];
        for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
          if (reached.has(file)) continue;
          reached.add(file);
          const source = readFileSync(join(folder, file), "utf8");
          for (const [, imported] of source.matchAll(
            /(?:from|import)\s*\(?\s*["']\.\/([^"']+[.]mjs)["']/g,
          ))
            if (imported) pending.push(imported);
        }
        const bytes = (names: string[]) =>
          names.reduce((sum, name) => sum + statSync(join(folder, name)).size, 0);
        const unreached = files.filter((file) => !reached.has(file));
        expect(bytes(unreached) / bytes(files), `unreached: ${unreached.join(", ")}`).toBeLessThan(
          0.1,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  // Issue 29: each zip at most 1.30 times the bare minimum's (one verify, one GetItem; built
  // with the same settings), both measured as their files deflated (bench/zips.ts). The SSM
  // client (208 kB, 45 kB zipped) comes from the runtime's SDK, which took playlists, songs and
  // users from 1.5 times to 1.16.
  it("keeps each function's zip within 1.30 times the bare minimum's", async () => {
    const dir = mkdtempSync(join(tmpdir(), "zips-"));
    try {
      const bare = deflatedZipBytes(dirname(await buildBare(join(dir, "bare"), "minimum")));
      for (const fn of FUNCTIONS) {
        const folder = join(dir, fn);
        await run("unzip", ["-q", join(packageDir, `${fn}.zip`), "-d", folder]);
        expect(deflatedZipBytes(folder) / bare, fn).toBeLessThanOrEqual(1.3);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("ships bundles without source maps", async () => {
    const { stdout } = await run("unzip", ["-l", join(packageDir, "songs.zip")]);
    expect(stdout).toContain("functions/songs.mjs");
    expect(stdout).not.toContain(".map");
  });
});

describe("IAM: one role per function, no wildcard (what each allows: iam.test.ts)", () => {
  it("gives every function a role of its own", () => {
    const roles = FUNCTIONS.map((fn) => roleOf(template, fn));
    expect(new Set(roles).size).toBe(FUNCTIONS.length);
  });

  it("lets the openapi function write its own logs and nothing else", () => {
    const role = template.Resources[roleOf(template, "openapi")];
    const statements = role.Properties.Policies.flatMap(
      (p: { PolicyDocument: { Statement: unknown[] } }) => p.PolicyDocument.Statement,
    );
    expect(statements).toHaveLength(1);
    expect(JSON.stringify(statements[0].Resource)).toContain("music-user-data-prod-openapi:");
    expect([statements[0].Action].flat().every((a: string) => a.startsWith("logs:"))).toBe(true);
  });

  it("grants no wildcard action or resource anywhere", () => {
    for (const [, role] of resources("AWS::IAM::Role")) {
      for (const policy of role.Properties.Policies ?? []) {
        for (const statement of policy.PolicyDocument.Statement) {
          for (const action of [statement.Action].flat()) expect(action).not.toMatch(/\*/);
          for (const resource of [statement.Resource].flat()) expect(resource).not.toBe("*");
        }
      }
    }
  });
});

describe("tables", () => {
  it("caps every table's on-demand throughput, so a runaway costs a known most", () => {
    for (const [id, table] of resources("AWS::DynamoDB::Table")) {
      expect(table.Properties.OnDemandThroughput, id).toEqual({
        MaxReadRequestUnits: 12000,
        MaxWriteRequestUnits: 8000,
      });
    }
  });

  it("defines the seven tables, named from service and stage", () => {
    const names = resources("AWS::DynamoDB::Table").map(([, t]) => t.Properties.TableName);
    expect(names.sort()).toEqual([
      "music-user-data-prod-counters",
      "music-user-data-prod-featured",
      "music-user-data-prod-idempotency",
      "music-user-data-prod-playlists",
      "music-user-data-prod-profiles",
      "music-user-data-prod-rate-limits",
      "music-user-data-prod-songs",
    ]);
  });

  it.each([
    "ProfilesTable",
    "SongsTable",
    "PlaylistsTable",
    "FeaturedPlaylistsTable",
    "CountersTable",
  ])("%s: on-demand, point-in-time recovery, encrypted, protected and retained on prod", (name) => {
    const table = template.Resources[name];
    expect(table.DeletionPolicy).toBe("Retain");
    expect(table.UpdateReplacePolicy).toBe("Retain");
    expect(table.Properties).toMatchObject({
      BillingMode: "PAY_PER_REQUEST",
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      DeletionProtectionEnabled: true,
    });
  });

  it("keys featured playlists by shelf and id (a Query in creation order), deleted ones expiring by TTL", () => {
    const { Properties } = template.Resources.FeaturedPlaylistsTable;
    expect(Properties.KeySchema).toEqual([
      { AttributeName: "shelf", KeyType: "HASH" },
      { AttributeName: "playlist_id", KeyType: "RANGE" },
    ]);
    expect(Properties.TimeToLiveSpecification).toEqual({
      AttributeName: "expires_at",
      Enabled: true,
    });
  });

  it.each(["IdempotencyTable", "RateLimitsTable"])(
    "%s: disposable records, expired by DynamoDB's TTL, gone with the stack",
    (name) => {
      const table = template.Resources[name];
      expect(table.Properties.TimeToLiveSpecification).toEqual({
        AttributeName: "expires_at",
        Enabled: true,
      });
      expect(table.DeletionPolicy ?? "Delete").toBe("Delete");
    },
  );
});

describe("HTTP API", () => {
  it("verifies JWTs at the gateway with the stage's issuer and audience", () => {
    const [authorizer] = resources("AWS::ApiGatewayV2::Authorizer").map(([, r]) => r);
    expect(authorizer.Properties).toMatchObject({
      AuthorizerType: "JWT",
      IdentitySource: ["$request.header.Authorization"],
      JwtConfiguration: { Issuer: SAMPLE.AUTH_ISSUER, Audience: [SAMPLE.AUTH_AUDIENCE] },
    });
  });

  it("puts the authorizer on every route but GET /openapi.json, GET /health and $default (a 404)", () => {
    const routes = resources("AWS::ApiGatewayV2::Route").map(([, r]) => r.Properties);
    // One per httpApi event of serverless.yml, whatever their number.
    expect(routes.map((r) => r.RouteKey).sort()).toEqual(
      Object.values(loadHttpRoutes()).flat().sort(),
    );
    const anonymous = ["GET /openapi.json", "GET /health", "$default"];
    for (const route of routes) {
      if (anonymous.includes(route.RouteKey))
        expect(route.AuthorizationType ?? "NONE").toBe("NONE");
      else expect(route.AuthorizationType, route.RouteKey).toBe("JWT");
    }
  });

  it("throttles the stage, with per-route metrics, and enables no CORS unless asked", () => {
    const [stage] = resources("AWS::ApiGatewayV2::Stage").map(([, r]) => r);
    expect(stage.Properties.DefaultRouteSettings).toEqual({
      ThrottlingRateLimit: 1000,
      ThrottlingBurstLimit: 2000,
      DetailedMetricsEnabled: true,
    });
    const [api] = resources("AWS::ApiGatewayV2::Api").map(([, r]) => r);
    expect(api.Properties.CorsConfiguration).toBeUndefined();
  });

  it("allows the browser origins the stage lists, and only those, without credentials", async () => {
    const origins = "https://app.example.com, https://m.example.com:8443";
    const { template: withCors } = await packageProd({ corsAllowedOrigins: origins });
    const [api] = Object.values(withCors.Resources).filter(
      (r) => r.Type === "AWS::ApiGatewayV2::Api",
    );
    expect(api?.Properties.CorsConfiguration).toEqual({
      AllowOrigins: ["https://app.example.com", "https://m.example.com:8443"],
      AllowHeaders: expect.arrayContaining(["Authorization", "Idempotency-Key", "If-Match"]),
      AllowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE"],
      ExposeHeaders: expect.arrayContaining(["ETag", "Retry-After", "Idempotent-Replayed"]),
      MaxAge: 600,
    });
    // A browser may send every header the API document declares, and read every one it answers.
    const { requestHeaders, responseHeaders } = documentedHeaders();
    const cors = api?.Properties.CorsConfiguration;
    expect(cors.AllowHeaders).toEqual(expect.arrayContaining(requestHeaders));
    expect([...cors.ExposeHeaders].sort()).toEqual(responseHeaders);
  }, 120_000);

  it("refuses to package an origin that is not one (a path, a trailing slash, a wildcard)", async () => {
    for (const origin of [
      "https://app.example.com/",
      "https://app.example.com/app",
      "*",
      "https://*,https://*.example.com",
    ]) {
      const failure = await packageProd({ corsAllowedOrigins: origin }).then(
        () => "packaged",
        (error: { stdout: string; stderr: string }) => `${error.stdout}${error.stderr}`,
      );
      expect(failure, origin).toContain("CORS_ALLOWED_ORIGINS must list origins");
    }
  }, 300_000);
});

describe("operations (docs/operations.md)", () => {
  const stage = () => template.Resources.HttpApiStage;
  const alarms = () =>
    resources("AWS::CloudWatch::Alarm").map(([id, r]) => ({ id, ...r.Properties }));
  const routeId = (key: string) =>
    resources("AWS::ApiGatewayV2::Route").find(([, r]) => r.Properties.RouteKey === key)?.[0];

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
    for (const name of [
      "Logins",
      "RolesGranted",
      "PlaysCounted",
      "PlaysRefused",
      "QuotaRefusals",
      "RateLimited",
      "AccountsDeleted",
      "ManagementApiFailures",
    ]) {
      expect(body).toContain(`"${name}"`);
    }
    // A metric a route declares (`counts`) is on it without an edit of the dashboard.
    const business = JSON.parse(body).widgets.find(
      (w: Json) => w.properties.title === "Business (EMF)",
    );
    expect(business.properties.metrics.map((m: string[]) => m[1])).toContain("ExportPages");
  });

  it("keeps no secret in the template or any function's environment", async () => {
    const text = JSON.stringify(template);
    for (const fn of FUNCTIONS) {
      const env =
        template.Resources[`${logicalName(fn)}LambdaFunction`].Properties.Environment.Variables;
      expect(env.CURSOR_SECRET, fn).toBe("");
      expect(env.CURSOR_SECRET_PARAMETER, fn).toBe("/music-user-data/prod/cursor-secret");
    }
    const state = readFileSync(join(packageDir, "serverless-state.json"), "utf8");
    // A value, not a variable reference such as the dev stage's `${env:CURSOR_SECRET, ''}`.
    for (const secretish of [/secret"\s*:\s*"(?!\$\{)[^"]{8,}/i, /BEGIN (RSA )?PRIVATE KEY/]) {
      expect(text).not.toMatch(secretish);
      expect(state).not.toMatch(secretish);
    }
    // Only the functions that sign cursors may read the parameter, and only that one.
    const readers = FUNCTIONS.filter((fn) =>
      JSON.stringify(template.Resources[roleOf(template, fn)]).includes("ssm:GetParameter"),
    );
    expect(readers.sort()).toEqual(["playlists", "songs", "users"]);
    expect(text).toContain(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub placeholder
      "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/music-user-data/prod/cursor-secret",
    );
    // The Management API client's secret: the users function's (account deletion) alone.
    const managementSecret = "parameter/music-user-data/prod/auth0-mgmt-client-secret";
    const holders = FUNCTIONS.filter((fn) =>
      JSON.stringify(template.Resources[roleOf(template, fn)]).includes(managementSecret),
    );
    expect(holders).toEqual(["users"]);
    const users = template.Resources.UsersLambdaFunction.Properties.Environment.Variables;
    expect(users.AUTH0_MGMT_CLIENT_SECRET).toBe("");
    expect(users.AUTH0_MGMT_CLIENT_SECRET_PARAMETER).toBe(
      "/music-user-data/prod/auth0-mgmt-client-secret",
    );
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
