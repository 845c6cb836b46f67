import { createRemoteJWKSet, errors, type JWTPayload, jwtVerify } from "jose";
import { config } from "../config.ts";
import { MissingTokenError, ServiceUnavailableError, UnauthorizedError } from "../http/errors.ts";

/** Who is calling, from a verified access token. Nothing unverified ever reaches this type. */
export interface Caller {
  sub: string;
  scopes: ReadonlySet<string>;
}

const cfg = config();

// Module scope: the key set is fetched once per container and refreshed only for an unknown `kid`
// (at most every 30 s), so a forged `kid` cannot make us hammer the issuer.
const keySet = createRemoteJWKSet(new URL(cfg.jwksUri), {
  timeoutDuration: 3_000,
  cooldownDuration: 30_000,
  cacheMaxAge: 600_000,
});

const CLOCK_TOLERANCE_SECONDS = 30;
const BEARER = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)\s*$/i;

export function bearerToken(authorization: string | undefined): string {
  if (!authorization) throw new MissingTokenError();
  const match = BEARER.exec(authorization);
  if (!match?.[1]) {
    throw new UnauthorizedError("Authorization header must be: Bearer <JWT access token>");
  }
  return match[1];
}

export async function verifyAccessToken(token: string): Promise<Caller> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, keySet, {
      algorithms: ["RS256"],
      issuer: cfg.authIssuer,
      audience: cfg.authAudience,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ["sub", "exp"],
    }));
  } catch (error) {
    throw toAuthError(error);
  }
  if (typeof payload.sub !== "string" || payload.sub.length === 0 || payload.sub.length > 256) {
    throw new UnauthorizedError("Token subject (sub) is missing or invalid");
  }
  return { sub: payload.sub, scopes: parseScopes(payload.scope) };
}

export function parseScopes(scope: unknown): ReadonlySet<string> {
  return new Set(typeof scope === "string" ? scope.split(" ").filter(Boolean) : []);
}

function toAuthError(error: unknown): Error {
  // The issuer's key set could not be fetched: our side is degraded, the token may be fine.
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) {
    return new ServiceUnavailableError(5);
  }
  if (error instanceof errors.JWTExpired) return new UnauthorizedError("Token has expired");
  if (error instanceof errors.JWTClaimValidationFailed) {
    return new UnauthorizedError(`Token claim "${error.claim}" is invalid`);
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return new UnauthorizedError("Token was not signed by a key of the issuer");
  }
  if (error instanceof errors.JOSEError) return new UnauthorizedError("Token is invalid");
  // fetch() failures (issuer unreachable) surface as plain errors.
  return new ServiceUnavailableError(5);
}
