/**
 * The floor for warm comparisons: jose verification, then exactly the DynamoDB commands the
 * route under comparison makes (given in `event.work`), sent raw through lib-dynamodb.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
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
);

const COMMANDS = {
  Get: GetCommand,
  Put: PutCommand,
  Update: UpdateCommand,
  Query: QueryCommand,
  Scan: ScanCommand,
  TransactWrite: TransactWriteCommand,
};
// One signature for every command kind: the replay does not care which it sends.
const send = db.send.bind(db) as (command: unknown) => Promise<unknown>;

export type Work = { op: keyof typeof COMMANDS; input: Record<string, unknown> }[];

export async function handler(event: { headers: Record<string, string>; work: Work }) {
  const token = (event.headers.authorization ?? "").slice(7);
  await jwtVerify(token, keys, { issuer, audience: process.env.AUTH_AUDIENCE as string });
  let last: unknown;
  for (const { op, input } of event.work) last = await send(new COMMANDS[op](input as never));
  return { statusCode: 200, body: JSON.stringify(last ?? {}) };
}
