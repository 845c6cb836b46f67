import { copyFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import { startDynamoProxy } from "../scripts/local/dynamo-proxy.ts";
import { startDynamoDb } from "../scripts/local/dynamodb.ts";
import { type EventChanges, httpEvent } from "../scripts/local/events.ts";
import { createSigningKey, signAccessToken, type TokenOptions } from "../scripts/local/issuer.ts";
import { serveIssuer } from "../scripts/local/oidc-issuer/serve.ts";
import { freePort } from "../scripts/local/ports.ts";
import { loadTableDefinitions } from "../scripts/local/serverless-config.ts";
import { ensureTables, localClient } from "../scripts/local/tables.ts";
import type { Bundles } from "./bundles.ts";
import type { Handler } from "./common.ts";

/**
 * What the warm measurements run against: DynamoDB Local (and a proxy in front of it that
 * counts round trips, records requests and asks for consumed capacity), a token issuer, each
 * bundle loaded twice (timed instances talk to DynamoDB directly, counted ones through the
 * proxy), and a user with a song and a playlist made through the functions themselves.
 */
const TABLE_PREFIX = "bench-";

function benchTables(): Record<string, string> {
  return Object.fromEntries(
    loadTableDefinitions("dev").map((d) => [d.envVar, `${TABLE_PREFIX}${d.logicalId}`]),
  );
}

/** The environment of the bundles: production-like, quotas and cooldown out of the way. */
export function runtimeEnv(cursorSecret: string): Record<string, string> {
  return {
    AUTH_ISSUER: "http://127.0.0.1:9/",
    AUTH_AUDIENCE: "https://api.music.example.com",
    CURSOR_SECRET: cursorSecret,
    LOG_LEVEL: "WARN",
    // The warm loops play and create a thousand times: no cooldown, quotas out of the way.
    PLAY_COOLDOWN_SECONDS: "0",
    MAX_SONGS_PER_USER: "1000000",
    MAX_PLAYLISTS_PER_USER: "1000000",
    // The limiter runs (its round trips are part of every figure), with room for the loops.
    USER_READS_PER_SECOND: "1000000",
    USER_WRITES_PER_SECOND: "1000000",
    USER_READ_UNITS_PER_SECOND: "1000000",
    USER_WRITE_UNITS_PER_SECOND: "1000000",
    AWS_REGION: "us-east-1",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    // DynamoDB Local on a busy machine, as the tests' setup allows it: with the 1.5 s default a
    // slow call ends the bench (a push of 100 answered 503 at a load of 20 on 2 cores). Only a
    // call that would have failed waits longer; the figures are the same.
    DYNAMODB_CONNECT_TIMEOUT_MS: "5000",
    DYNAMODB_REQUEST_TIMEOUT_MS: "10000",
    ...benchTables(),
  };
}

/**
 * A fresh module instance of a bundle, configured by the environment of the moment. Modules are
 * cached by URL, so each instance is loaded from its own copy.
 */
export async function freshInstance(file: string, instance: string): Promise<Handler> {
  const copy = file.replace(/\.mjs$/, `.${instance.replace(/\W/g, "_")}.mjs`);
  copyFileSync(file, copy);
  return (await import(pathToFileURL(copy).href)).handler as Handler;
}

export const context = { awsRequestId: "bench", getRemainingTimeInMillis: () => 10_000 };
/** The `users` function's invocation: its timeout in serverless.yml is 29 s. */
export const usersContext = { ...context, getRemainingTimeInMillis: () => 29_000 };
export const noKey = { "idempotency-key": null };

export async function startBenchStack(bundles: Bundles) {
  const [dynamoPort, issuerPort] = [await freePort(), await freePort()];
  const dynamo = await startDynamoDb({ port: dynamoPort });
  const admin = localClient(dynamo.endpoint);
  await ensureTables(admin, loadTableDefinitions("dev"), (d) => `${TABLE_PREFIX}${d.logicalId}`);
  const doc = DynamoDBDocumentClient.from(admin);
  const proxy = await startDynamoProxy(dynamoPort, { measureCapacity: true });
  const key = await createSigningKey();
  const issuer = `http://127.0.0.1:${issuerPort}/`;
  const audience = "https://api.music.example.com";
  const issuerServer = await serveIssuer(issuerPort, { issuer, key, audience });
  const tokenFor = (sub: string, options: Partial<TokenOptions> = {}) =>
    signAccessToken(key, { issuer, audience, sub, expiresInSeconds: 7200, ...options });

  const env = runtimeEnv(bundles.cursorSecret);
  const loadHandlers = async (dynamodbEndpoint: string, instance: string) => {
    Object.assign(process.env, env, { AUTH_ISSUER: issuer, DYNAMODB_ENDPOINT: dynamodbEndpoint });
    const loaded: Record<string, Handler> = {};
    for (const [name, file] of Object.entries(bundles.functions)) {
      loaded[name] = await freshInstance(file, instance);
    }
    return loaded;
  };
  const handlers = await loadHandlers(dynamo.endpoint, "timed");
  const counted = await loadHandlers(proxy.endpoint, "counted");
  process.env.DYNAMODB_ENDPOINT = dynamo.endpoint;

  /** Calls a function and answers its JSON body; anything but a 2xx stops the bench. */
  const through = async (fn: string, fixture: string, changes: EventChanges) => {
    const response = (await (handlers[fn] as Handler)(httpEvent(fixture, changes), context)) as {
      statusCode: number;
      body: string;
    };
    if (response.statusCode >= 300) {
      throw new Error(`${fixture} answered ${response.statusCode}: ${response.body}`);
    }
    return response.body ? JSON.parse(response.body) : undefined;
  };

  const sub = "google-oauth2|bench-user";
  const token = await tokenFor(sub);
  const hookToken = await tokenFor("bench@clients", {
    scope: "run:post_login",
    claims: { gty: "client-credentials" },
  });
  await through("displayName", "setDisplayName", { token, body: { displayName: "Bench" } });
  const { songId } = await through("songs", "createSong", {
    token,
    body: { songName: "Bench", genre: "g" },
    headers: noKey,
  });
  const { playlistId } = await through("playlists", "createPlaylist", {
    token,
    body: { name: "Bench" },
    headers: noKey,
  });
  const tables = benchTables();
  const now = new Date().toISOString();
  for (let i = 0; i < 20; i++) {
    await doc.send(
      new PutCommand({
        TableName: tables.FEATURED_TABLE,
        Item: {
          shelf: "live",
          playlist_id: `01JD0000000000000000FEAT${String(i).padStart(2, "0")}`,
          created_by: "google-oauth2|bench-editor",
          updated_by: "google-oauth2|bench-editor",
          name: `F${i}`,
          song_ids: [],
          plays: 0,
          created_at: now,
          updated_at: now,
        },
      }),
    );
  }

  return {
    doc,
    proxy,
    dynamoEndpoint: dynamo.endpoint,
    key,
    issuer,
    audience,
    tables,
    tokenFor,
    handlers,
    counted,
    through,
    user: { sub, token, hookToken, songId: songId as string, playlistId: playlistId as string },
    async close() {
      await proxy.close();
      issuerServer.close();
      admin.destroy();
      await dynamo.stop();
    },
  };
}

export type BenchStack = Awaited<ReturnType<typeof startBenchStack>>;
