import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../../scripts/local/serverless-config.ts";

/** `npm run app:build`: the sample app's files for a static host, configured from variables. */
const run = promisify(execFile);
const SETTINGS = {
  AUTH_ISSUER: "https://your-tenant.us.auth0.com/",
  AUTH_AUDIENCE: "https://api.music.example.com",
  APP_CLIENT_ID: "spa-client-id",
  API_URL: "https://abc123.execute-api.eu-west-1.amazonaws.com/",
};
const build = (env: Record<string, string>, out: string) =>
  run("npm", ["run", "-s", "app:build", "--", "--out", out], {
    cwd: ROOT,
    env: { ...process.env, CLAIMS_NAMESPACE: "", ...env },
  });

describe("npm run app:build", () => {
  it("writes index.html with the tenant's and the API's settings, the bundle and the styles", async () => {
    const out = mkdtempSync(join(tmpdir(), "music-app-"));
    await build(SETTINGS, out);
    expect(readdirSync(out).sort()).toEqual(["app.css", "app.js", "index.html", "sw.js"]);
    const html = readFileSync(join(out, "index.html"), "utf8");
    const config = JSON.parse(
      /<script type="application\/json" id="app-config">(.*)<\/script>/.exec(html)?.[1] ?? "{}",
    );
    expect(config).toEqual({
      domain: "https://your-tenant.us.auth0.com",
      clientId: "spa-client-id",
      audience: "https://api.music.example.com",
      apiUrl: "https://abc123.execute-api.eu-west-1.amazonaws.com",
      claimsNamespace: "https://music.example.com/",
    });
    // A static host sends no headers of ours: the policy travels in the page.
    expect(html).toContain(
      "connect-src https://abc123.execute-api.eu-west-1.amazonaws.com https://your-tenant.us.auth0.com",
    );
    expect(readFileSync(join(out, "app.js"), "utf8")).toContain("app-config");
  }, 60_000);

  it("says which settings are missing, and writes nothing", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "music-app-")), "dist");
    const failure = await build({ ...SETTINGS, APP_CLIENT_ID: "", API_URL: "" }, out).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toContain("app:build needs APP_CLIENT_ID, API_URL");
    expect(() => readdirSync(out)).toThrow();
  }, 60_000);
});
