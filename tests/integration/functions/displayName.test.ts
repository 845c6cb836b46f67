import { describe, expect, it } from "vitest";
import { handler } from "../../../functions/displayName.ts";
import { getProfile } from "../../../lib/db/profiles.ts";
import { httpEvent, invoke } from "../../helpers/invoke.ts";
import { attackTokens, tokenFor, uniqueUser } from "../../helpers/tokens.ts";

async function getName(token: string) {
  return invoke(handler, httpEvent("getDisplayName", { token }));
}
async function putName(token: string, body: unknown) {
  return invoke(handler, httpEvent("setDisplayName", { token, body }));
}

describe("displayName function (direct invocation against DynamoDB Local)", () => {
  it('answers "user" for someone who never chose a name, without creating a profile', async () => {
    const sub = uniqueUser();
    const response = await getName(await tokenFor(sub));
    expect(response.statusCode).toBe(200);
    expect(response.body).toEqual({ displayName: "user" });
    expect(await getProfile(sub)).toBeUndefined();
  });

  it("stores a chosen name, trimmed, in user_metadata.displayName", async () => {
    const sub = uniqueUser("google-oauth2");
    const token = await tokenFor(sub);
    const put = await putName(token, { displayName: "  J-vald3z  " });
    expect(put.statusCode).toBe(200);
    expect(put.body).toEqual({ displayName: "J-vald3z" });
    expect((await getName(token)).body).toEqual({ displayName: "J-vald3z" });
    expect((await getProfile(sub))?.userMetadata).toEqual({ displayName: "J-vald3z" });
  });

  it("keeps names apart: one user's write never shows for another", async () => {
    const alice = await tokenFor(uniqueUser());
    const bob = await tokenFor(uniqueUser());
    await putName(alice, { displayName: "Alice" });
    expect((await getName(bob)).body).toEqual({ displayName: "user" });
  });

  it.each([
    ["an empty name", { displayName: "   " }, "displayName must not be empty"],
    ["65 characters", { displayName: "x".repeat(65) }, "displayName must be at most 64 characters"],
    [
      "a control character",
      { displayName: "bad\u0007name" },
      "displayName must not contain control characters",
    ],
    ["a number", { displayName: 42 }, "displayName must be a string"],
    ["an unknown field", { displayName: "ok", admin: true }, "Unknown field: admin"],
    ["no body field", {}, "displayName"],
  ])("refuses %s with a 400 naming the problem, writing nothing", async (_case, body, message) => {
    const sub = uniqueUser();
    const response = await putName(await tokenFor(sub), body);
    expect(response.statusCode).toBe(400);
    expect(response.body).toMatchObject({
      statusCode: 400,
      error: "Bad Request",
      errorCode: "invalid_body",
    });
    expect(response.body.message).toContain(message);
    expect(await getProfile(sub)).toBeUndefined();
  });

  it("accepts exactly 64 characters", async () => {
    const response = await putName(await tokenFor(uniqueUser()), { displayName: "x".repeat(64) });
    expect(response.statusCode).toBe(200);
  });

  it("answers malformed JSON with 400 invalid_json", async () => {
    const event = httpEvent("setDisplayName", {
      token: await tokenFor(uniqueUser()),
      rawBody: "{oops",
    });
    const response = await invoke(handler, event);
    expect(response.statusCode).toBe(400);
    expect(response.body.errorCode).toBe("invalid_json");
  });

  it("answers a body over 64 kB with 413", async () => {
    const event = httpEvent("setDisplayName", {
      token: await tokenFor(uniqueUser()),
      body: { displayName: "x".repeat(70_000) },
    });
    const response = await invoke(handler, event);
    expect(response.statusCode).toBe(413);
    expect(response.body.errorCode).toBe("payload_too_large");
  });

  it("accepts a token whose aud is an array holding the API's audience", async () => {
    const sub = uniqueUser();
    const token = await tokenFor(sub, {
      audience: ["https://tenant.auth0.com/userinfo", process.env.AUTH_AUDIENCE as string],
    });
    expect((await getName(token)).statusCode).toBe(200);
  });

  it("answers 401 with a Bearer challenge when no Authorization header is sent", async () => {
    const response = await invoke(handler, httpEvent("getDisplayName", { token: null }));
    expect(response.statusCode).toBe(401);
    expect(response.headers["www-authenticate"]).toMatch(/^Bearer /);
  });

  it("refuses a non-Bearer scheme", async () => {
    const event = httpEvent("getDisplayName", {
      headers: { authorization: "Basic dXNlcjpwYXNz" },
    });
    const response = await invoke(handler, event);
    expect(response.statusCode).toBe(401);
    expect(response.headers["www-authenticate"]).toContain('error="invalid_token"');
  });

  describe("refuses every token attack on direct invocation, where no gateway checks first", async () => {
    const sub = uniqueUser();
    const attacks = await attackTokens(sub);
    it.each(Object.keys(attacks))("%s: 401 invalid_token, nothing written", async (name) => {
      const response = await putName(attacks[name] as string, { displayName: "Mallory" });
      expect(response.statusCode).toBe(401);
      expect(response.headers["www-authenticate"]).toContain('Bearer error="invalid_token"');
      expect(response.body).toMatchObject({
        statusCode: 401,
        error: "Unauthorized",
        errorCode: "invalid_token",
      });
      expect(await getProfile(sub)).toBeUndefined();
    });
  });
});
