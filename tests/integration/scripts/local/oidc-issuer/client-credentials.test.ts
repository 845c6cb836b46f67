/**
 * The local Auth0 tenant's machine side: client credentials as Auth0's /oauth/token answers
 * them (to the Action, to an M2M application), and the keys it signs with.
 */
import { jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { AUDIENCE, http, issuer, keys, M2M, serveTenants } from "./tenant.ts";

serveTenants();

describe("client credentials, as Auth0's /oauth/token", () => {
  const ask = (body: Record<string, string>, json = true) =>
    http.post(`${issuer}oauth/token`, json ? { data: body } : { form: body });
  const grant = { grant_type: "client_credentials", client_id: M2M.clientId, audience: AUDIENCE };

  it("answers the Action's JSON request with the client's grant, shaped as Auth0's", async () => {
    const response = await ask({ ...grant, client_secret: M2M.clientSecret });
    expect(response.status()).toBe(200);
    const body = await response.json();
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 86_400, scope: M2M.scope });
    const { payload, protectedHeader } = await jwtVerify(body.access_token, keys(), {
      issuer,
      audience: AUDIENCE,
    });
    expect(protectedHeader).toMatchObject({ alg: "RS256", typ: "JWT" });
    expect(payload).toMatchObject({
      sub: `${M2M.clientId}@clients`,
      gty: "client-credentials",
      azp: M2M.clientId,
      scope: "run:post_login",
    });
    expect(payload).not.toHaveProperty("client_id");
  });

  it("takes a form body too", async () => {
    const response = await ask({ ...grant, client_secret: M2M.clientSecret }, false);
    expect(response.status()).toBe(200);
  });

  it("answers a body it cannot read with 400", async () => {
    const junk = await http.post(`${issuer}oauth/token`, {
      data: "{not json",
      headers: { "content-type": "application/json" },
    });
    expect(junk.status()).toBe(400);
    const huge = await ask({ ...grant, client_secret: "x".repeat(20_000) });
    expect(huge.status()).toBe(400);
  });

  it("refuses a wrong secret, an unknown API and a permission the client was not granted", async () => {
    const wrongSecret = await ask({ ...grant, client_secret: "guess" });
    expect(wrongSecret.status()).toBe(401);
    expect((await wrongSecret.json()).error).toBe("invalid_client");

    const elsewhere = await ask({
      ...grant,
      client_secret: M2M.clientSecret,
      audience: "https://another.api",
    });
    expect(elsewhere.status()).toBe(400);
    expect((await elsewhere.json()).error).toBe("invalid_target");

    const more = await ask({ ...grant, client_secret: M2M.clientSecret, scope: "delete:users" });
    expect(more.status()).toBe(400);
    expect((await more.json()).error).toBe("invalid_scope");
  });
});

describe("keys", () => {
  it("serves the signing key's public half only", async () => {
    const { keys: served } = await (await http.get(`${issuer}.well-known/jwks.json`)).json();
    expect(served).toHaveLength(1);
    expect(served[0]).toMatchObject({ kty: "RSA", alg: "RS256", use: "sig" });
    for (const part of ["d", "p", "q", "dp", "dq", "qi"])
      expect(served[0]).not.toHaveProperty(part);
  });
});
