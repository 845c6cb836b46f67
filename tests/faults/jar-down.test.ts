/**
 * DynamoDB Local's jar dying under npm start, its loopback guard (scripts/local/dynamodb.ts)
 * still listening: the functions see a cut connection, as from an unreachable endpoint, and
 * answer 503 with Retry-After in the contract's error shape, never a 500.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LambdaHandler } from "../../lib/http/handler.ts";
import { type LocalDynamoDb, startDynamoDb } from "../../scripts/local/dynamodb.ts";
import { freePort } from "../../scripts/local/ports.ts";
import { loadTableDefinitions } from "../../scripts/local/serverless-config.ts";
import { ensureTables, localClient } from "../../scripts/local/tables.ts";
import { httpEvent, invoke } from "../helpers/invoke.ts";
import { tokenFor, uniqueUser } from "../helpers/tokens.ts";

let dynamo: LocalDynamoDb;
let handler: LambdaHandler;

beforeAll(async () => {
  dynamo = await startDynamoDb({ port: await freePort() });
  const client = localClient(dynamo.endpoint);
  await ensureTables(client, loadTableDefinitions(), (d) => process.env[d.envVar] as string);
  client.destroy();
  // The function reads its configuration when first imported: through the guard, with the
  // production timeouts.
  process.env.DYNAMODB_ENDPOINT = dynamo.endpoint;
  delete process.env.DYNAMODB_CONNECT_TIMEOUT_MS;
  delete process.env.DYNAMODB_REQUEST_TIMEOUT_MS;
  handler = (await import("../../functions/getFavGenre.ts")).handler as LambdaHandler;
}, 60_000);

afterAll(async () => {
  await dynamo?.stop();
});

describe("the local DynamoDB's jar gone, its guard still up", () => {
  it("answers 503 with Retry-After, not a 500", async () => {
    const token = await tokenFor(uniqueUser());
    const get = () => invoke(handler, httpEvent("genres-getFav", { token }));
    expect((await get()).statusCode).toBe(200);
    const exited = new Promise((resolve) => dynamo.process.once("exit", resolve));
    dynamo.process.kill("SIGKILL");
    await exited;
    const answer = await get();
    expect(answer.statusCode).toBe(503);
    expect(answer.headers["retry-after"]).toBe("1");
    expect(answer.body).toMatchObject({ statusCode: 503, error: "Service Unavailable" });
  }, 30_000);
});
