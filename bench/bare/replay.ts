/**
 * The floor for warm comparisons: jose verification, then exactly the DynamoDB requests the route
 * under comparison sent (recorded by the bench's proxy from a real invocation, in `event.work`),
 * replayed raw with the low-level client. A replayed conditional write may now fail its
 * condition: that is still the same round trip, so it counts as done.
 */
import * as dynamodb from "@aws-sdk/client-dynamodb";
import { createRemoteJWKSet, jwtVerify } from "jose";

const issuer = process.env.AUTH_ISSUER as string;
const keys = createRemoteJWKSet(new URL(`${issuer}.well-known/jwks.json`));
const client = new dynamodb.DynamoDBClient({
  endpoint: process.env.DYNAMODB_ENDPOINT as string,
  credentials: { accessKeyId: "local", secretAccessKey: "local" },
});

export type Work = { operation: string; input: Record<string, unknown> }[];

type CommandClass = new (input: unknown) => unknown;
const send = client.send.bind(client) as (command: unknown) => Promise<unknown>;
const REFUSED = new Set(["ConditionalCheckFailedException", "TransactionCanceledException"]);

export async function handler(event: { headers: Record<string, string>; work: Work }) {
  const token = (event.headers.authorization ?? "").slice(7);
  await jwtVerify(token, keys, { issuer, audience: process.env.AUTH_AUDIENCE as string });
  let last: unknown;
  for (const { operation, input } of event.work) {
    const Command = (dynamodb as unknown as Record<string, CommandClass>)[`${operation}Command`];
    if (!Command) throw new Error(`no command for ${operation}`);
    try {
      last = await send(new Command(input));
    } catch (error) {
      if (!REFUSED.has((error as Error).name)) throw error;
    }
  }
  return { statusCode: 200, body: JSON.stringify(last ?? {}) };
}
