import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { DEFAULTS } from "../../lib/config.ts";
import { localIssuerUrl } from "./issuer.ts";
import { ROOT } from "./serverless-config.ts";

function port(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new Error(`${name} must be a TCP port (1-65535), got "${text}"`);
  }
  return value;
}

/** The local stack's settings: the contract's variables with their local defaults. */
export function localSettings() {
  const dataDir = resolve(ROOT, process.env.DATA_DIR || ".data");
  const issuerPort = port("ISSUER_PORT", 3003);
  const externalIssuer = process.env.AUTH_ISSUER || undefined;
  return {
    port: port("PORT", 3000),
    lambdaPort: port("LAMBDA_PORT", 3002),
    dynamodbPort: port("DYNAMODB_PORT", 8000),
    issuerPort,
    dataDir,
    /** Set when AUTH_ISSUER names a real issuer: then no local issuer runs. */
    externalIssuer,
    authIssuer: externalIssuer ?? localIssuerUrl(issuerPort),
    authAudience: process.env.AUTH_AUDIENCE || "https://api.music.local",
    claimsNamespace: process.env.CLAIMS_NAMESPACE || DEFAULTS.claimsNamespace,
  };
}

/** A random secret kept under DATA_DIR, so local cursors stay valid across restarts. */
export function localSecret(dataDir: string, name: string): string {
  const file = join(dataDir, `${name}.secret`);
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    mkdirSync(dataDir, { recursive: true });
    const secret = randomBytes(32).toString("base64url");
    writeFileSync(file, secret, { mode: 0o600 });
    return secret;
  }
}
