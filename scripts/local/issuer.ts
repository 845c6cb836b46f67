import { randomUUID, type webcrypto } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
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
 * A local stand-in for an Auth0 tenant's token endpoint: one RS256 key, generated once and kept
 * under DATA_DIR, whose public half is served as a JWKS on loopback. Tokens it signs are
 * verified by the functions exactly as Auth0's are.
 */
type CryptoKey = webcrypto.CryptoKey;

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

export async function createSigningKey(): Promise<{ key: SigningKey; privateJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", {
    extractable: true,
    modulusLength: 2048,
  });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: "RS256" };
  return {
    key: { kid, privateKey, publicKey, publicJwk: { ...publicJwk, kid, alg: "RS256", use: "sig" } },
    privateJwk,
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
  const { key, privateJwk } = await createSigningKey();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(file, JSON.stringify(privateJwk), { mode: 0o600 });
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
  claims?: Record<string, unknown>;
  expiresInSeconds?: number;
}

export async function signAccessToken(key: SigningKey, options: TokenOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ ...options.claims, ...(options.scope ? { scope: options.scope } : {}) })
    .setProtectedHeader({ alg: "RS256", typ: "JWT", kid: key.kid })
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setSubject(options.sub)
    .setIssuedAt(now)
    .setExpirationTime(now + (options.expiresInSeconds ?? 3600))
    .setJti(randomUUID())
    .sign(key.privateKey);
}

/** Serves `/.well-known/jwks.json` and the OIDC discovery document on 127.0.0.1. */
export function serveJwks(port: number, keys: JWK[], issuer: string): Promise<Server> {
  const documents: Record<string, string> = {
    "/.well-known/jwks.json": JSON.stringify({ keys }),
    "/.well-known/openid-configuration": JSON.stringify({
      issuer,
      jwks_uri: `${issuer}.well-known/jwks.json`,
      id_token_signing_alg_values_supported: ["RS256"],
    }),
  };
  const server = createServer((request, response) => {
    const document = request.method === "GET" ? documents[request.url ?? ""] : undefined;
    response.writeHead(document ? 200 : 404, { "content-type": "application/json" });
    response.end(document ?? '{"error":"not_found"}');
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}
