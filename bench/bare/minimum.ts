/**
 * The floor: a Lambda that verifies one JWT with jose and makes one DynamoDB call through
 * lib-dynamodb, nothing else. Built with the functions' esbuild settings by bench/run.ts.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import { createRemoteJWKSet, jwtVerify } from "jose";

const issuer = process.env.AUTH_ISSUER as string;
const keys = createRemoteJWKSet(new URL(`${issuer}.well-known/jwks.json`));
const db = DynamoDBDocumentClient.from(
  new DynamoDBClient(
    process.env.DYNAMODB_ENDPOINT
      ? {
          endpoint: process.env.DYNAMODB_ENDPOINT,
          credentials: { accessKeyId: "local", secretAccessKey: "local" },
        }
      : {},
  ),
);

export async function handler(event: { headers: Record<string, string> }) {
  const token = (event.headers.authorization ?? "").slice(7);
  const { payload } = await jwtVerify(token, keys, {
    issuer,
    audience: process.env.AUTH_AUDIENCE as string,
  });
  const { Item } = await db.send(
    new GetCommand({
      TableName: process.env.PROFILES_TABLE as string,
      Key: { user_id: payload.sub },
    }),
  );
  return { statusCode: 200, body: JSON.stringify(Item ?? {}) };
}
