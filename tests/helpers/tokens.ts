import { randomUUID } from "node:crypto";
import { exportSPKI, type JWK, SignJWT, UnsecuredJWT } from "jose";
import {
  createSigningKey,
  importSigningKey,
  type SigningKey,
  signAccessToken,
  type TokenOptions,
} from "../../scripts/local/issuer.ts";

/**
 * Tokens for tests, signed by the test issuer whose JWKS the functions trust (started by
 * tests/global-setup.ts), and the classic attacks on JWT verification.
 */
export const issuer = () => required("AUTH_ISSUER");
export const audience = () => required("AUTH_AUDIENCE");

function required(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(`${name} is not set: run the tests through vitest (tests/global-setup.ts)`);
  return value;
}

let trustedKey: Promise<SigningKey> | undefined;
export function testSigningKey(): Promise<SigningKey> {
  trustedKey ??= importSigningKey(JSON.parse(required("TEST_ISSUER_PRIVATE_JWK")) as JWK);
  return trustedKey;
}

export function uniqueUser(prefix = "auth0"): string {
  return `${prefix}|test-${randomUUID()}`;
}

export async function tokenFor(
  sub: string,
  options: Partial<Omit<TokenOptions, "sub">> = {},
): Promise<string> {
  return signAccessToken(await testSigningKey(), {
    issuer: issuer(),
    audience: audience(),
    sub,
    ...options,
  });
}

/**
 * Waits until the clock is in the next second: a token issued then (iat in seconds) comes after
 * an account deletion that just finished, whose cut-off refuses tokens issued at or before it.
 */
export async function pastTokenCutOff(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 20));
}

/** A client-credentials token of an M2M application, as Auth0 issues them. */
export function machineTokenFor(clientId: string, scope: string): Promise<string> {
  return tokenFor(`${clientId}@clients`, {
    scope,
    claims: { gty: "client-credentials", azp: clientId },
  });
}

/** Every way a token must be refused, each paired with what it tries. */
export async function attackTokens(sub: string): Promise<Record<string, string>> {
  const key = await testSigningKey();
  const attacker = await createSigningKey();
  const now = Math.floor(Date.now() / 1000);
  const base = () =>
    new SignJWT({})
      .setIssuer(issuer())
      .setAudience(audience())
      .setSubject(sub)
      .setIssuedAt(now)
      .setExpirationTime(now + 600);
  const publicPem = await exportSPKI(key.publicKey);
  return {
    // Same kid as the real key, signed by another key.
    "forged signature": await base()
      .setProtectedHeader({ alg: "RS256", kid: key.kid })
      .sign(attacker.privateKey),
    "alg none": new UnsecuredJWT({ sub, iss: issuer(), aud: audience(), exp: now + 600 }).encode(),
    // The classic confusion: the public key used as an HMAC secret.
    "HS256 signed with the public key": await base()
      .setProtectedHeader({ alg: "HS256", kid: key.kid })
      .sign(new TextEncoder().encode(publicPem)),
    expired: await new SignJWT({})
      .setProtectedHeader({ alg: "RS256", kid: key.kid })
      .setIssuer(issuer())
      .setAudience(audience())
      .setSubject(sub)
      .setIssuedAt(now - 7200)
      .setExpirationTime(now - 3600)
      .sign(key.privateKey),
    "not yet valid": await base()
      .setProtectedHeader({ alg: "RS256", kid: key.kid })
      .setNotBefore(now + 3600)
      .sign(key.privateKey),
    "wrong audience": await signAccessToken(key, {
      issuer: issuer(),
      audience: "https://other.api",
      sub,
    }),
    "wrong issuer": await signAccessToken(key, {
      issuer: "https://evil.example.com/",
      audience: audience(),
      sub,
    }),
    "unknown kid": await base()
      .setProtectedHeader({ alg: "RS256", kid: "unknown-kid" })
      .sign(attacker.privateKey),
    "no sub": await new SignJWT({ jti: randomUUID() })
      .setProtectedHeader({ alg: "RS256", kid: key.kid })
      .setIssuer(issuer())
      .setAudience(audience())
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(key.privateKey),
    "no exp": await new SignJWT({})
      .setProtectedHeader({ alg: "RS256", kid: key.kid })
      .setIssuer(issuer())
      .setAudience(audience())
      .setSubject(sub)
      .sign(key.privateKey),
  };
}
