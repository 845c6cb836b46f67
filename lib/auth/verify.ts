import { errors, type JWTPayload, jwtVerify } from "jose";
import { config } from "../config.ts";
import { MissingTokenError, ServiceUnavailableError, UnauthorizedError } from "../errors.ts";
import { isWellFormed } from "../json.ts";
import { metric } from "../metrics.ts";
import { IssuerKeys, KeySetUnavailable } from "./keys.ts";

/**
 * Who is calling, from a verified access token. Nothing unverified ever reaches this type.
 * `machine`: a client-credentials token (an Auth0 M2M application), never a person.
 * `permissions`: operator rights Auth0 gave this token: a machine's `scope`, or a user's RBAC
 * `permissions` array. A user token's `scope` is not read: with RBAC off, Auth0 puts any
 * permission the app asks for there, so it proves nothing.
 */
export interface Caller {
  sub: string;
  machine: boolean;
  permissions: ReadonlySet<string>;
  /**
   * The token's `iat` (epoch seconds), 0 when it has none: a deleted account's tokens issued at
   * or before the deletion are refused by it (lib/domain/rate-limits.ts).
   */
  issuedAt: number;
}

const cfg = config();

// Module scope: fetched once per container (lib/auth/keys.ts says when it refetches).
const issuerKeys = new IssuerKeys(cfg.jwksUri);

/** Starts fetching the key set now (a container's init), so the first request need not wait. */
export const prefetchKeys = (): Promise<void> => issuerKeys.refresh();

const CLOCK_TOLERANCE_SECONDS = 30;
/** Auth0 issues access tokens for at most 30 days; a longer lifetime was not minted by it. */
const MAX_TOKEN_LIFETIME_SECONDS = 30 * 24 * 3600;
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
    ({ payload } = await jwtVerify(token, issuerKeys.lookup, {
      algorithms: ["RS256"],
      issuer: cfg.authIssuer,
      audience: cfg.authAudience,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ["sub", "exp"],
    }));
  } catch (error) {
    throw toAuthError(error);
  }
  checkLifetime(payload);
  const { sub } = payload;
  if (typeof sub !== "string" || sub.length === 0 || sub.length > 256) {
    throw new UnauthorizedError("Token subject (sub) is missing or invalid");
  }
  // Two distinct subs must never share a partition: lone surrogates would be replaced.
  if (!isWellFormed(sub)) {
    throw new UnauthorizedError("Token subject (sub) is not well-formed Unicode");
  }
  return callerOf({ ...payload, sub });
}

function checkLifetime(payload: JWTPayload): void {
  const now = Math.floor(Date.now() / 1000);
  const { iat, exp } = payload;
  if (iat !== undefined && iat > now + CLOCK_TOLERANCE_SECONDS) {
    throw new UnauthorizedError('Token claim "iat" is in the future');
  }
  if (typeof exp === "number" && exp - (iat ?? now) > MAX_TOKEN_LIFETIME_SECONDS) {
    throw new UnauthorizedError("Token lifetime is longer than 30 days");
  }
}

/** Operator rights only from what Auth0 gives operators (see Caller). */
function callerOf(payload: JWTPayload & { sub: string }): Caller {
  const machine = payload.gty === "client-credentials" && payload.sub.endsWith("@clients");
  const granted = machine
    ? typeof payload.scope === "string"
      ? payload.scope.split(" ")
      : []
    : Array.isArray(payload.permissions)
      ? payload.permissions.filter((p): p is string => typeof p === "string")
      : [];
  return {
    sub: payload.sub,
    machine,
    permissions: new Set(granted.filter(Boolean)),
    issuedAt: typeof payload.iat === "number" ? payload.iat : 0,
  };
}

function toAuthError(error: unknown): Error {
  // The issuer's key set could not be fetched: our side is degraded, the token may be fine.
  if (error instanceof KeySetUnavailable) {
    metric("Unavailable", 1, "jwks");
    return new ServiceUnavailableError(issuerKeys.retryAfterSeconds());
  }
  if (error instanceof errors.JWTExpired) return new UnauthorizedError("Token has expired");
  if (error instanceof errors.JWTClaimValidationFailed) {
    return new UnauthorizedError(`Token claim "${error.claim}" is invalid`);
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return new UnauthorizedError("Token was not signed by a key of the issuer");
  }
  return new UnauthorizedError("Token is invalid");
}
