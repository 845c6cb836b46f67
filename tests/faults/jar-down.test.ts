/**
 * DynamoDB Local's jar dying under npm start, its loopback guard (scripts/local/dynamodb.ts)
 * still listening: the functions see a cut connection, as from an unreachable endpoint, and
 * answer 503 with Retry-After in the contract's error shape, never a 500. And a client that
 * goes away part way leaves no request open to the jar.
 */
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
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

/** TCP connections on loopback now established to `port` (Linux's /proc/net/tcp). */
function connectionsTo(port: number): number {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  return readFileSync("/proc/net/tcp", "utf8")
    .split("\n")
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[2]?.endsWith(`:${hexPort}`) && fields[3] === "01").length;
}

async function eventually(check: () => boolean): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    if (check()) return true;
    await sleep(100);
  }
  return check();
}

describe("the local DynamoDB's guard", () => {
  it("ends the jar's request when the client goes away part way through its body", async () => {
    const client = connect(Number(new URL(dynamo.endpoint).port), "127.0.0.1");
    await new Promise((resolve) => client.once("connect", resolve));
    // A request whose body never comes whole: the guard opens its upstream request at once.
    client.write(
      "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.0\r\n" +
        "X-Amz-Target: DynamoDB_20120810.ListTables\r\nContent-Length: 100000\r\n\r\n{",
    );
    // Its connection to the jar (a new one, or the guard's idle keep-alive one, reused).
    expect(await eventually(() => connectionsTo(dynamo.jarPort) >= 1)).toBe(true);
    await sleep(300);
    const during = connectionsTo(dynamo.jarPort);
    client.destroy();
    expect(await eventually(() => connectionsTo(dynamo.jarPort) < during)).toBe(true);
  }, 30_000);
});

describe("the local DynamoDB's jar gone, its guard still up", () => {
  it("answers 503 with Retry-After, not a 500", async () => {
    const token = await tokenFor(uniqueUser());
    const get = () => invoke(handler, httpEvent("getFavouriteGenre", { token }));
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
