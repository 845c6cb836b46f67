import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningStack, startStack } from "../../scripts/local/stack.ts";
import { call } from "../helpers/http.ts";
import { attackTokens, audience, issuer, tokenFor, uniqueUser } from "../helpers/tokens.ts";

/**
 * The real `npm start` stack (serverless-offline, DynamoDB Local) trusting the test issuer
 * through AUTH_ISSUER, called over HTTP as the app would call API Gateway.
 */
let stack: RunningStack;

beforeAll(async () => {
  stack = await startStack({ AUTH_ISSUER: issuer(), AUTH_AUDIENCE: audience() });
});
afterAll(async () => {
  await stack?.stop();
});

describe("over HTTP through serverless-offline", () => {
  it("serves GET and PUT /displayName for a verified caller", async () => {
    const token = await tokenFor(uniqueUser("google-oauth2"));
    expect(await call(stack.baseUrl, "GET", "/displayName", { token })).toMatchObject({
      status: 200,
      body: { displayName: "user" },
    });
    const put = await call(stack.baseUrl, "PUT", "/displayName", {
      token,
      body: { displayName: "J-vald3z" },
    });
    expect(put).toMatchObject({ status: 200, body: { displayName: "J-vald3z" } });
    expect(put.headers.get("content-type")).toContain("application/json");
    expect((await call(stack.baseUrl, "GET", "/displayName", { token })).body).toEqual({
      displayName: "J-vald3z",
    });
  });

  it("answers a request without Authorization with 401 and a Bearer challenge", async () => {
    const response = await call(stack.baseUrl, "GET", "/displayName");
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toMatch(/^Bearer /);
    expect(response.body).toMatchObject({ statusCode: 401, error: "Unauthorized" });
  });

  describe("refuses each token attack with 401 and writes nothing", async () => {
    const sub = uniqueUser();
    const attacks = await attackTokens(sub);
    it.each(Object.keys(attacks))("%s", async (name) => {
      const token = attacks[name] as string;
      const put = await call(stack.baseUrl, "PUT", "/displayName", {
        token,
        body: { displayName: "Mallory" },
      });
      expect(put.status).toBe(401);
      expect(put.headers.get("www-authenticate")).toContain('Bearer error="invalid_token"');
      expect(put.body).toMatchObject({
        statusCode: 401,
        error: "Unauthorized",
        errorCode: "invalid_token",
      });
      // The victim's name is untouched: read it back with a genuine token.
      const read = await call(stack.baseUrl, "GET", "/displayName", { token: await tokenFor(sub) });
      expect(read.body).toEqual({ displayName: "user" });
    });
  });

  it("never answers a 5xx with internals for junk bodies", async () => {
    const token = await tokenFor(uniqueUser());
    for (const rawBody of ["{", "[]", "null", '"text"', "\u0000"]) {
      const response = await call(stack.baseUrl, "PUT", "/displayName", {
        token,
        rawBody,
        headers: { "content-type": "application/json" },
      });
      expect(response.status).toBe(400);
      expect(JSON.stringify(response.body)).not.toMatch(/at .*\.(ts|js|mjs):\d+/);
    }
  });
});
