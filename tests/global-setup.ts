import { rmSync } from "node:fs";
import type { Server } from "node:http";
import type { TestProject } from "vitest/node";
import { type LocalDynamoDb, startDynamoDb } from "../scripts/local/dynamodb.ts";
import { createSigningKey } from "../scripts/local/issuer.ts";
import { serveIssuer } from "../scripts/local/oidc-issuer/serve.ts";
import { freePort } from "../scripts/local/ports.ts";
import { requestLogsWanted } from "../scripts/local/request-logs.ts";
import { loadTableDefinitions } from "../scripts/local/serverless-config.ts";
import { ensureTables, localClient } from "../scripts/local/tables.ts";
import { CALL_LOG_DIR } from "./helpers/call-log.ts";

/**
 * Once per test run: DynamoDB Local in memory on a free port with the tables of serverless.yml,
 * and a test token issuer serving its JWKS on loopback. Workers inherit the environment.
 */
let dynamo: LocalDynamoDb | undefined;
let jwksServer: Server | undefined;

export default async function setup(_project: TestProject): Promise<() => Promise<void>> {
  // Every project that names this file calls it; the first one's DynamoDB Local and issuer serve
  // them all (their workers take this process's environment).
  if (process.env.TEST_SETUP_DONE) return async () => {};
  process.env.TEST_SETUP_DONE = "1";
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  // Every function's DynamoDB calls, in process and under npm start, for tests/deploy/iam.test.ts.
  rmSync(CALL_LOG_DIR, { recursive: true, force: true });
  process.env.DYNAMODB_CALL_LOG_DIR = CALL_LOG_DIR;
  const definitions = loadTableDefinitions("dev");
  const [dynamoPort, issuerPort] = await Promise.all([freePort(), freePort()]);
  dynamo = await startDynamoDb({ port: dynamoPort });
  const client = localClient(dynamo.endpoint);
  try {
    await ensureTables(client, definitions, (d) => `test-${d.logicalId}`);
  } catch (error) {
    // No teardown runs when setup fails: leave no Java process behind.
    await dynamo.stop();
    throw error;
  } finally {
    client.destroy();
  }

  const key = await createSigningKey();
  const issuer = `http://127.0.0.1:${issuerPort}/`;
  const audience = "https://api.music.test";
  jwksServer = await serveIssuer(issuerPort, { issuer, key, audience });

  Object.assign(process.env, {
    AUTH_ISSUER: issuer,
    AUTH_AUDIENCE: audience,
    CLAIMS_NAMESPACE: "https://music.example.com/",
    PLAYLIST_EDITOR_MIN_PLAYS: "100",
    // Tests play in bursts; the cooldown has its own end-to-end tests with the default.
    PLAY_COOLDOWN_SECONDS: "0",
    // Tests send bursts far past a person's rate; the limits have their own tests.
    USER_READS_PER_SECOND: "100000",
    USER_WRITES_PER_SECOND: "100000",
    USER_READ_UNITS_PER_SECOND: "100000",
    USER_WRITE_UNITS_PER_SECOND: "100000",
    CURSOR_SECRET: "test-cursor-secret-0123456789-abcdefghijkl",
    DYNAMODB_ENDPOINT: dynamo.endpoint,
    TEST_ISSUER_PRIVATE_JWK: JSON.stringify(key.privateJwk),
    // The functions' request lines only when asked for (LOG_REQUESTS=1; vitest.config.ts).
    LOG_LEVEL: requestLogsWanted() ? "INFO" : "WARN",
    // DynamoDB Local on a busy 2-core CI machine answers bursts of 100 far slower than
    // DynamoDB does; tests/faults runs with the production timeouts instead.
    DYNAMODB_CONNECT_TIMEOUT_MS: "5000",
    DYNAMODB_REQUEST_TIMEOUT_MS: "10000",
    ...Object.fromEntries(definitions.map((d) => [d.envVar, `test-${d.logicalId}`])),
  });

  return async () => {
    jwksServer?.close();
    await dynamo?.stop();
  };
}
