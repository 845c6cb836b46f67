import { randomBytes, randomUUID, timingSafeEqual, type webcrypto } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
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

/** The local M2M client the post-login Action uses, created once under `dataDir/issuer`. */
export function loadOrCreateLocalClient(dataDir: string): LocalClient {
  const file = join(dataDir, "issuer", "post-login-client.json");
  try {
    return JSON.parse(readFileSync(file, "utf8")) as LocalClient;
  } catch {
    const client = {
      clientId: "local-post-login-action",
      clientSecret: randomBytes(32).toString("base64url"),
      scope: "run:post_login",
    };
    mkdirSync(join(dataDir, "issuer"), { recursive: true, mode: 0o700 });
    writeFileSync(file, JSON.stringify(client), { mode: 0o600 });
    return client;
  }
}

/**
 * The local tenant's users' app_metadata, as Auth0 keeps it: what the post-login Action mirrors
 * there with api.user.setAppMetadata (the roles), kept under `dataDir/issuer`.
 */
export function userAppMetadata(dataDir: string) {
  const file = join(dataDir, "issuer", "app-metadata.json");
  const read = (): Record<string, Record<string, unknown>> => {
    try {
      return JSON.parse(readFileSync(file, "utf8"));
    } catch {
      return {};
    }
  };
  return {
    get: (userId: string): Record<string, unknown> => read()[userId] ?? {},
    /** Auth0 merges what an Action sets into the user's app_metadata, key by key. */
    merge(userId: string, changes: Record<string, unknown>): void {
      if (Object.keys(changes).length === 0) return;
      const all = read();
      all[userId] = { ...all[userId], ...changes };
      mkdirSync(join(dataDir, "issuer"), { recursive: true, mode: 0o700 });
      writeFileSync(file, JSON.stringify(all), { mode: 0o600 });
    },
  };
}

export interface IssuerOptions {
  issuer: string;
  keys: JWK[];
  /** When set, `POST /oauth/token` issues client-credentials tokens, as Auth0's endpoint does. */
  tokens?: { key: SigningKey; audience: string; clients: LocalClient[] };
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

async function readForm(request: IncomingMessage): Promise<Record<string, string>> {
  let text = "";
  for await (const chunk of request) {
    text += chunk;
    if (text.length > 10_000) throw new Error("body too large");
  }
  if ((request.headers["content-type"] ?? "").includes("json"))
    return JSON.parse(text) as Record<string, string>;
  return Object.fromEntries(new URLSearchParams(text));
}

async function clientCredentials(
  request: IncomingMessage,
  tokens: NonNullable<IssuerOptions["tokens"]>,
  issuer: string,
) {
  const form = await readForm(request);
  if (form.grant_type !== "client_credentials")
    return { status: 400, body: { error: "unsupported_grant_type" } };
  const client = tokens.clients.find((c) => c.clientId === form.client_id);
  if (!client || !sameSecret(client.clientSecret, form.client_secret ?? "")) {
    return { status: 401, body: { error: "access_denied", error_description: "Unauthorized" } };
  }
  if (form.audience !== tokens.audience) {
    return {
      status: 403,
      body: { error: "access_denied", error_description: "Service not enabled within domain" },
    };
  }
  const expiresIn = 86_400;
  const accessToken = await signAccessToken(tokens.key, {
    issuer,
    audience: tokens.audience,
    sub: `${client.clientId}@clients`,
    scope: client.scope,
    claims: { azp: client.clientId, gty: "client-credentials" },
    expiresInSeconds: expiresIn,
  });
  return {
    status: 200,
    body: {
      access_token: accessToken,
      token_type: "Bearer",
      expires_in: expiresIn,
      scope: client.scope,
    },
  };
}

/**
 * Serves `/.well-known/jwks.json`, the OIDC discovery document and, optionally, Auth0's
 * client-credentials token endpoint, on 127.0.0.1.
 */
export function serveIssuer(port: number, options: IssuerOptions): Promise<Server> {
  const { issuer, keys, tokens } = options;
  const documents: Record<string, string> = {
    "/.well-known/jwks.json": JSON.stringify({ keys }),
    "/.well-known/openid-configuration": JSON.stringify({
      issuer,
      jwks_uri: `${issuer}.well-known/jwks.json`,
      ...(tokens ? { token_endpoint: `${issuer}oauth/token` } : {}),
      id_token_signing_alg_values_supported: ["RS256"],
    }),
  };
  const server = createServer((request, response) => {
    const reply = (status: number, body: unknown) => {
      response.writeHead(status, {
        "content-type": "application/json",
        "cache-control": "no-store",
      });
      response.end(typeof body === "string" ? body : JSON.stringify(body));
    };
    if (request.method === "POST" && request.url === "/oauth/token" && tokens) {
      clientCredentials(request, tokens, issuer).then(
        ({ status, body }) => reply(status, body),
        () => reply(400, { error: "invalid_request" }),
      );
      return;
    }
    const document = request.method === "GET" ? documents[request.url ?? ""] : undefined;
    reply(document ? 200 : 404, document ?? { error: "not_found" });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}
