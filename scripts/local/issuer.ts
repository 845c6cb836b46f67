import { randomBytes, randomUUID, type webcrypto } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  SignJWT,
} from "jose";

/**
 * What the local Auth0 tenant keeps (scripts/local/oidc-issuer/ serves it): one RS256 key,
 * generated once and kept under DATA_DIR, the M2M client of the post-login Action, the one of
 * the Management API, the app's registration and the users' app_metadata. Tokens signed with the key (`npm run token`, tests)
 * are verified by the functions exactly as Auth0's are.
 */
type CryptoKey = webcrypto.CryptoKey;

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
  /** The whole key as a JWK, for the issuer's key store. */
  privateJwk: JWK;
}

export async function createSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", {
    extractable: true,
    modulusLength: 2048,
  });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  return {
    kid,
    privateKey,
    publicKey,
    publicJwk: { ...publicJwk, kid, alg: "RS256", use: "sig" },
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: "RS256", use: "sig" },
  };
}

export async function importSigningKey(privateJwk: JWK): Promise<SigningKey> {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicPart } = privateJwk;
  const kid = privateJwk.kid ?? (await calculateJwkThumbprint(publicPart));
  return {
    kid,
    privateKey: (await importJWK(privateJwk, "RS256")) as CryptoKey,
    publicKey: (await importJWK(publicPart, "RS256")) as CryptoKey,
    publicJwk: { ...publicPart, kid, alg: "RS256", use: "sig" },
    privateJwk: { ...privateJwk, kid, alg: "RS256", use: "sig" },
  };
}

/** The key kept in `dataDir/issuer`, created on first use (readable by its owner only). */
export async function loadOrCreateSigningKey(dataDir: string): Promise<SigningKey> {
  const dir = join(dataDir, "issuer");
  const file = join(dir, "signing-key.json");
  try {
    return await importSigningKey(JSON.parse(readFileSync(file, "utf8")) as JWK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const key = await createSigningKey();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(file, JSON.stringify(key.privateJwk), { mode: 0o600 });
  return key;
}

export function localIssuerUrl(port: number): string {
  return `http://127.0.0.1:${port}/`;
}

export interface TokenOptions {
  issuer: string;
  audience: string | string[];
  sub: string;
  scope?: string;
  /** Auth0 RBAC: the permissions assigned to the user ("Add Permissions in the Access Token"). */
  permissions?: string[];
  claims?: Record<string, unknown>;
  expiresInSeconds?: number;
}

export async function signAccessToken(key: SigningKey, options: TokenOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    ...options.claims,
    ...(options.scope ? { scope: options.scope } : {}),
    ...(options.permissions ? { permissions: options.permissions } : {}),
  })
    .setProtectedHeader({ alg: "RS256", typ: "JWT", kid: key.kid })
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setSubject(options.sub)
    .setIssuedAt(now)
    .setExpirationTime(now + (options.expiresInSeconds ?? 3600))
    .setJti(randomUUID())
    .sign(key.privateKey);
}

/** A machine-to-machine application of the local issuer (Auth0's "M2M application"). */
export interface LocalClient {
  clientId: string;
  clientSecret: string;
  scope: string;
}

/** An M2M client of the local tenant, read from `dataDir/issuer/<fileName>`, made there once. */
function loadOrCreateClient(
  dataDir: string,
  fileName: string,
  made: Omit<LocalClient, "clientSecret">,
): LocalClient {
  const file = join(dataDir, "issuer", fileName);
  try {
    return JSON.parse(readFileSync(file, "utf8")) as LocalClient;
  } catch {
    const client = { ...made, clientSecret: randomBytes(32).toString("base64url") };
    mkdirSync(join(dataDir, "issuer"), { recursive: true, mode: 0o700 });
    writeFileSync(file, JSON.stringify(client), { mode: 0o600 });
    return client;
  }
}

/** The local M2M client the post-login Action uses, created once under `dataDir/issuer`. */
export function loadOrCreateLocalClient(dataDir: string): LocalClient {
  return loadOrCreateClient(dataDir, "post-login-client.json", {
    clientId: "local-post-login-action",
    scope: "run:post_login",
  });
}

/**
 * One metadata object per user of the local tenant, as Auth0 keeps it, in `dataDir/issuer/<file>`:
 * what the post-login Action sets there (api.user.setAppMetadata, setUserMetadata) is merged key
 * by key, a `null` removing the key, as Auth0 does.
 */
function tenantMetadata(dataDir: string, fileName: string) {
  const file = join(dataDir, "issuer", fileName);
  const read = (): Record<string, Record<string, unknown>> => {
    try {
      return JSON.parse(readFileSync(file, "utf8"));
    } catch {
      return {};
    }
  };
  const write = (all: Record<string, Record<string, unknown>>) => {
    mkdirSync(join(dataDir, "issuer"), { recursive: true, mode: 0o700 });
    writeFileSync(file, JSON.stringify(all), { mode: 0o600 });
  };
  return {
    get: (userId: string): Record<string, unknown> => read()[userId] ?? {},
    /** Every user the tenant keeps this metadata of. */
    all: (): Record<string, Record<string, unknown>> => read(),
    /** Auth0 merges what an Action sets into the user's metadata, key by key (null removes). */
    merge(userId: string, changes: Record<string, unknown>): void {
      if (Object.keys(changes).length === 0) return;
      const all = read();
      const merged: Record<string, unknown> = { ...all[userId], ...changes };
      for (const [key, value] of Object.entries(changes)) if (value === null) delete merged[key];
      all[userId] = merged;
      write(all);
    },
    /** The user was deleted (Management API): answers whether anything was kept of them. */
    forget(userId: string): boolean {
      const all = read();
      if (!Object.hasOwn(all, userId)) return false;
      delete all[userId];
      write(all);
      return true;
    },
  };
}

/**
 * The local tenant's users' app_metadata: what the post-login Action mirrors there with
 * api.user.setAppMetadata (the roles), and what an operator set (plan, denied_roles).
 */
export function userAppMetadata(dataDir: string) {
  return tenantMetadata(dataDir, "app-metadata.json");
}

/**
 * The local tenant's users' user_metadata: what a tenant that predates the API keeps of its users
 * (preferences, avatar, ...), moved into the API's store at a first login, and trimmed by the
 * Action (api.user.setUserMetadata(key, null)) when TRIM_AUTH0_METADATA is "true".
 */
export function userUserMetadata(dataDir: string) {
  return tenantMetadata(dataDir, "user-metadata.json");
}

/** The user was deleted at the local tenant: both metadata objects go. */
export function forgetTenantUser(dataDir: string, userId: string): boolean {
  const app = userAppMetadata(dataDir).forget(userId);
  const user = userUserMetadata(dataDir).forget(userId);
  return app || user;
}

/**
 * The local M2M application allowed `delete:users` on the local tenant's Management API, which
 * account deletion uses (AUTH0_MGMT_CLIENT_ID, AUTH0_MGMT_CLIENT_SECRET: `npm start` passes
 * these); created once under `dataDir/issuer`.
 */
export function loadOrCreateManagementClient(dataDir: string): LocalClient {
  return loadOrCreateClient(dataDir, "management-client.json", {
    clientId: "local-management-api",
    scope: "delete:users",
  });
}
