/**
 * The floor for warm comparisons: jose verification, then exactly the DynamoDB requests the route
 * under comparison sent (recorded by the bench's proxy from a real invocation, turned back into
 * plain values by bench/warm.ts, in `event.work`), sent through lib-dynamodb as the functions
 * send theirs, so both sides pay the same marshalling. A replayed conditional write may now fail
 * its condition: that is still the same round trip, so it counts as done.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { createRemoteJWKSet, jwtVerify } from "jose";

const issuer = process.env.AUTH_ISSUER as string;
const keys = createRemoteJWKSet(new URL(`${issuer}.well-known/jwks.json`));
const db = DynamoDBDocumentClient.from(
  new DynamoDBClient({
    endpoint: process.env.DYNAMODB_ENDPOINT as string,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  }),
  { marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false } },
);

const COMMANDS: Record<string, new (input: never) => unknown> = {
  GetItem: GetCommand,
  PutItem: PutCommand,
  UpdateItem: UpdateCommand,
  DeleteItem: DeleteCommand,
  Query: QueryCommand,
  Scan: ScanCommand,
  BatchGetItem: BatchGetCommand,
  BatchWriteItem: BatchWriteCommand,
  TransactWriteItems: TransactWriteCommand,
};

export type Work = { operation: string; input: Record<string, unknown> }[];

const send = db.send.bind(db) as (command: unknown) => Promise<unknown>;
const REFUSED = new Set(["ConditionalCheckFailedException", "TransactionCanceledException"]);

export async function handler(event: { headers: Record<string, string>; work: Work }) {
  const token = (event.headers.authorization ?? "").slice(7);
  await jwtVerify(token, keys, { issuer, audience: process.env.AUTH_AUDIENCE as string });
  let last: unknown;
  for (const { operation, input } of event.work) {
    const Command = COMMANDS[operation];
    if (!Command) throw new Error(`no command for ${operation}`);
    try {
      last = await send(new Command(input as never));
    } catch (error) {
      if (!REFUSED.has((error as Error).name)) throw error;
    }
  }
  return { statusCode: 200, body: JSON.stringify(last ?? {}) };
}
