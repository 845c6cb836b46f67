import { describe, expect, it } from "vitest";
import { ROOT, SERVERLESS_BIN } from "../../scripts/local/serverless-config.ts";
import { packageEnv, run, SAMPLE } from "../helpers/template.ts";

/**
 * A value copied from the docs as they stand (`AUTH_ISSUER=https://YOUR_TENANT.us.auth0.com/`,
 * `<api-id>`) stops `serverless package` before anything is built, naming the variable.
 */
async function packagingFailure(stage: string, values: Record<string, string>) {
  return run(process.execPath, [SERVERLESS_BIN, "package", "--stage", stage], {
    cwd: ROOT,
    env: packageEnv(values),
  }).then(
    () => "packaged",
    (error: { stdout: string; stderr: string }) => `${error.stdout}${error.stderr}`,
  );
}

describe("packaging refuses the docs' placeholders", () => {
  it.each([
    ["AUTH_ISSUER", "prod", { ...SAMPLE, AUTH_ISSUER: "https://YOUR_TENANT.us.auth0.com/" }],
    ["AUTH_ISSUER", "staging", { ...SAMPLE, AUTH_ISSUER: "https://YOUR_TENANT.auth0.com/" }],
    ["AUTH_AUDIENCE", "prod", { ...SAMPLE, AUTH_AUDIENCE: "https://YOUR_API_IDENTIFIER" }],
    ["AUTH_JWKS_URI", "prod", { ...SAMPLE, AUTH_JWKS_URI: "https://<tenant>/jwks.json" }],
    ["ALARM_EMAIL", "prod", { ...SAMPLE, ALARM_EMAIL: "YOUR_EMAIL@example.com" }],
  ])(
    "%s on %s",
    async (name, stage, values) => {
      const failure = await packagingFailure(stage, values);
      expect(failure).toContain(`Stage "${stage}" cannot be packaged or deployed yet`);
      expect(failure).toContain(`${name} is still a placeholder from the docs`);
    },
    120_000,
  );
});
