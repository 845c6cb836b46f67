"use strict";

/**
 * CORS for browser clients, from the stage parameter `corsAllowedOrigins` (custom.cors): a
 * comma-separated list of origins such as `https://app.example.com`. Empty (every stage's default
 * but the one `npm start` runs, which allows the sample app's origins): no CORS configuration, so
 * browsers refuse to let any other site's script call the API. Bearer tokens, not cookies, carry
 * the caller, so credentials are never allowed.
 *
 * Serverless takes `provider.httpApi.cors` as a list, and a parameter can only be a string: this
 * plugin turns one into the other before anything compiles or serves it (package, deploy,
 * serverless-offline).
 */
const ORIGIN = /^https?:\/\/[^/\s,]+$/;

/** Request headers the API reads; response headers a web client needs to see. */
const ALLOWED_HEADERS = [
  "Authorization",
  "Content-Type",
  "Idempotency-Key",
  "If-Match",
  "X-Correlation-Id",
];
// Every response header docs/openapi.json declares (tests/deploy/template.test.ts keeps them equal).
const EXPOSED_HEADERS = [
  "ETag",
  "Retry-After",
  "Idempotent-Replayed",
  "RateLimit",
  "RateLimit-Policy",
  "WWW-Authenticate",
  "X-Correlation-Id",
];

function corsConfiguration(setting) {
  const origins = String(setting ?? "")
    .split(",")
    .map((origin) => origin.trim())
    .filter(Boolean);
  // API Gateway would take `https://*.example.com` as a pattern: every subdomain, anyone's.
  const wrong = origins.filter(
    (origin) => origin.includes("*") || !ORIGIN.test(origin) || new URL(origin).origin !== origin,
  );
  if (wrong.length) {
    throw new Error(
      `CORS_ALLOWED_ORIGINS must list origins (scheme://host[:port], no path or trailing slash), comma-separated; got ${wrong.map((o) => `"${o}"`).join(", ")}`,
    );
  }
  if (origins.length === 0) return undefined;
  return {
    allowedOrigins: origins,
    allowedHeaders: ALLOWED_HEADERS,
    allowedMethods: ["GET", "POST", "PUT", "PATCH", "DELETE"],
    exposedResponseHeaders: EXPOSED_HEADERS,
    // Browsers cache a preflight this long (Chromium caps it at 2 hours).
    maxAge: 600,
  };
}

class BrowserCors {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { initialize: () => this.apply() };
  }

  apply() {
    const { service } = this.serverless;
    let cors;
    try {
      cors = corsConfiguration(service.custom?.cors?.allowedOrigins);
    } catch (error) {
      throw new this.serverless.classes.Error(error.message);
    }
    if (!cors) return;
    service.provider.httpApi = { ...service.provider.httpApi, cors };
  }
}

module.exports = BrowserCors;
