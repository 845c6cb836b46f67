import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, SERVERLESS_BIN } from "../../scripts/local/serverless-config.ts";
import { type RunningStack, startStack } from "../../scripts/local/stack.ts";
import { call } from "../helpers/http.ts";
import { packageEnv, run, SAMPLE } from "../helpers/template.ts";
import { audience, issuer, tokenFor, uniqueUser } from "../helpers/tokens.ts";

/**
 * `serverless package` in the same checkout (what `npm run package` runs) empties .esbuild; a
 * running `npm start` builds elsewhere, so workers it starts afterwards still load.
 */
let stack: RunningStack;

beforeAll(async () => {
  stack = await startStack({ AUTH_ISSUER: issuer(), AUTH_AUDIENCE: audience() });
});
afterAll(async () => {
  await stack?.stop();
});

describe("a running npm start while the checkout is packaged", () => {
  it("keeps serving, first requests of functions not yet loaded included", async () => {
    const token = await tokenFor(uniqueUser());
    expect((await call(stack.baseUrl, "GET", "/displayName", { token })).status).toBe(200);
    await run(process.execPath, [SERVERLESS_BIN, "package", "--stage", "prod"], {
      cwd: ROOT,
      env: packageEnv(SAMPLE),
    });
    for (const path of ["/genres/getFav", "/playlists/getPlays", "/songs"]) {
      const response = await call(stack.baseUrl, "GET", path, { token });
      expect(response.status, path).toBe(200);
    }
  }, 240_000);
});
