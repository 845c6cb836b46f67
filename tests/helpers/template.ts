import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  loadServerlessConfig,
  ROOT,
  SERVERLESS_BIN,
} from "../../scripts/local/serverless-config.ts";

/**
 * `serverless package --stage prod` with sample Auth0 values, offline and without AWS
 * credentials, and the CloudFormation template it produces.
 */
export const run = promisify(execFile);
export const SAMPLE = {
  AUTH_ISSUER: "https://music-sample.us.auth0.com/",
  AUTH_AUDIENCE: "https://api.music.example.com",
};

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON, navigated by the assertions.
export type Json = any;
export interface Template {
  Resources: Record<string, Json>;
}

/** The environment of a clean deploy shell: no AWS credentials, no local values, only `values`. */
export function packageEnv(values: Record<string, string>) {
  const env: Record<string, string | undefined> = { ...process.env, SLS_TELEMETRY_DISABLED: "1" };
  const unset = ["AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "DYNAMODB_ENDPOINT"];
  const tunables = [
    "PLAY_COOLDOWN_SECONDS",
    "MAX_SONGS_PER_USER",
    "MAX_PLAYLISTS_PER_USER",
    "MAX_FEATURED_PER_EDITOR",
    "PLAYLIST_EDITOR_MIN_PLAYS",
    "CLAIMS_NAMESPACE",
    "LOG_LEVEL",
  ];
  const auth = [
    "AUTH_ISSUER",
    "AUTH_AUDIENCE",
    "AUTH_JWKS_URI",
    "CURSOR_SECRET",
    "CURSOR_SECRET_PARAMETER",
    "AUTH0_MGMT_CLIENT_ID",
    "AUTH0_MGMT_CLIENT_SECRET",
    "AUTH0_MGMT_CLIENT_SECRET_PARAMETER",
    "ALARM_EMAIL",
    "INIT_WARM_UP",
    "CORS_ALLOWED_ORIGINS",
  ];
  for (const name of [...unset, ...auth, ...tunables, "DYNAMODB_CALL_LOG_DIR"]) delete env[name];
  return { ...env, ...values };
}

/**
 * Packages the prod stage into a fresh directory; answers the directory and the template.
 * `params` overrides stage parameters as `serverless package --param` does.
 */
export async function packageProd(
  params: Record<string, string> = {},
): Promise<{ packageDir: string; template: Template }> {
  const packageDir = mkdtempSync(join(tmpdir(), "music-package-"));
  // A build folder of its own: test files package in parallel, and must not empty each other's.
  const workFolder = `.esbuild-offline/package-${process.pid}-${Date.now()}`;
  try {
    await run(
      process.execPath,
      [
        SERVERLESS_BIN,
        "package",
        "--stage",
        "prod",
        "--package",
        packageDir,
        ...Object.entries(params).map(([name, value]) => `--param=${name}=${value}`),
      ],
      { cwd: ROOT, env: { ...packageEnv(SAMPLE), ESBUILD_WORK_FOLDER: workFolder } },
    );
  } finally {
    rmSync(join(ROOT, workFolder), { recursive: true, force: true });
  }
  const template = JSON.parse(
    readFileSync(join(packageDir, "cloudformation-template-update-stack.json"), "utf8"),
  ) as Template;
  return { packageDir, template };
}

/** The template's resources of CloudFormation type `type`, with their logical ids. */
export function resourcesOf(template: Template, type: string): [string, Json][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

/** The functions serverless.yml deploys. */
export const FUNCTIONS = Object.keys(loadServerlessConfig("dev").functions);

export const logicalName = (fn: string) => fn.charAt(0).toUpperCase() + fn.slice(1);

export function roleOf(template: Template, fn: string): string {
  return template.Resources[`${logicalName(fn)}LambdaFunction`].Properties.Role["Fn::GetAtt"][0];
}

/**
 * The DynamoDB actions a role allows, by table logical id (`{ SongsTable: [...] }`), and its
 * SSM reads by the parameter's last path segment (`{ "cursor-secret": ["ssm:GetParameter"] }`),
 * as lib/instrumentation/call-log.ts records them.
 */
export function dynamoGrants(template: Template, role: string): Record<string, string[]> {
  const grants: Record<string, string[]> = {};
  const parameterOf = (resource: Json): string | undefined =>
    String(resource?.["Fn::Sub"] ?? "").match(/:parameter\/(?:.*\/)?([^/]+)$/)?.[1];
  for (const policy of template.Resources[role].Properties.Policies ?? []) {
    for (const statement of policy.PolicyDocument.Statement) {
      const actions: string[] = [statement.Action].flat();
      if (!actions.some((a) => a.startsWith("dynamodb:") || a.startsWith("ssm:"))) continue;
      for (const resource of [statement.Resource].flat()) {
        // An index's ARN (`${SongsTable.Arn}/index/changes`) as the call log names it.
        const index = String(resource?.["Fn::Sub"] ?? "").match(/^\$\{(\w+)\.Arn\}(\/index\/\w+)$/);
        const table =
          resource?.["Fn::GetAtt"]?.[0] ??
          (index ? `${index[1]}${index[2]}` : undefined) ??
          parameterOf(resource) ??
          JSON.stringify(resource);
        grants[table] = [...(grants[table] ?? []), ...actions].sort();
      }
    }
  }
  return grants;
}
