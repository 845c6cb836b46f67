import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT, SERVERLESS_BIN } from "../../scripts/local/serverless-config.ts";
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
    expect(failure).toContain("CURSOR_SECRET");
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

  it("ships bundles without source maps", async () => {
    const { stdout } = await run("unzip", ["-l", join(packageDir, "songs.zip")]);
    expect(stdout).toContain("functions/songs.cjs");
    expect(stdout).not.toContain(".map");
  });
});

describe("IAM: one role per function, no wildcard (what each allows: iam.test.ts)", () => {
  it("gives every function a role of its own", () => {
    const roles = FUNCTIONS.map((fn) => roleOf(template, fn));
    expect(new Set(roles).size).toBe(FUNCTIONS.length);
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
  it("defines the six tables, named from service and stage", () => {
    const names = resources("AWS::DynamoDB::Table").map(([, t]) => t.Properties.TableName);
    expect(names.sort()).toEqual([
      "music-user-data-prod-counters",
      "music-user-data-prod-featured-playlists",
      "music-user-data-prod-idempotency",
      "music-user-data-prod-playlists",
      "music-user-data-prod-profiles",
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

  it("keeps idempotency records 24 h with DynamoDB's TTL, and lets them go with the stack", () => {
    const table = template.Resources.IdempotencyTable;
    expect(table.Properties.TimeToLiveSpecification).toEqual({
      AttributeName: "expires_at",
      Enabled: true,
    });
    expect(table.DeletionPolicy ?? "Delete").toBe("Delete");
  });
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

  it("puts the authorizer on every route but GET /openapi.json and $default (a 404)", () => {
    const routes = resources("AWS::ApiGatewayV2::Route").map(([, r]) => r.Properties);
    expect(routes).toHaveLength(25);
    for (const route of routes) {
      if (route.RouteKey === "GET /openapi.json" || route.RouteKey === "$default")
        expect(route.AuthorizationType ?? "NONE").toBe("NONE");
      else expect(route.AuthorizationType, route.RouteKey).toBe("JWT");
    }
  });

  it("throttles the stage and enables no CORS", () => {
    const [stage] = resources("AWS::ApiGatewayV2::Stage").map(([, r]) => r);
    expect(stage.Properties.DefaultRouteSettings).toEqual({
      ThrottlingRateLimit: 1000,
      ThrottlingBurstLimit: 2000,
    });
    const [api] = resources("AWS::ApiGatewayV2::Api").map(([, r]) => r);
    expect(api.Properties.CorsConfiguration).toBeUndefined();
  });
});
