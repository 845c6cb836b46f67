import { setTimeout as sleep } from "node:timers/promises";
import { type AttributeValue, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { config } from "../config.ts";
import { isConditionFailure, isTransactionConflict } from "./errors.ts";

const cfg = config();

/**
 * One client per container, created at cold start. Timeouts and retries are bounded so that a
 * slow or unreachable DynamoDB fails the request (503) well inside the function's own timeout.
 */
export const dynamodb = new DynamoDBClient({
  region: cfg.region,
  maxAttempts: 3,
  // throwOnRequestTimeout: without it the SDK only logs a warning and keeps waiting.
  requestHandler: {
    connectionTimeout: cfg.dynamodbConnectTimeoutMs,
    requestTimeout: cfg.dynamodbRequestTimeoutMs,
    throwOnRequestTimeout: true,
  },
  ...(cfg.dynamodbEndpoint
    ? {
        endpoint: cfg.dynamodbEndpoint,
        // DynamoDB Local accepts any credentials; fixed ones keep a developer's real keys unused.
        credentials: { accessKeyId: "local", secretAccessKey: "local" },
      }
    : {}),
});

/**
 * Metadata is the user's JSON: its numbers are doubles, some beyond 2^53. They are written as
 * their shortest decimal text and read back as the same double (metadata.ts keeps them within
 * DynamoDB's range), instead of the SDK refusing them.
 */
const wrapNumbers = (text: string) => Number(text);

export const db = DynamoDBDocumentClient.from(dynamodb, {
  marshallOptions: {
    removeUndefinedValues: true,
    convertEmptyValues: false,
    allowImpreciseNumbers: true,
  },
  unmarshallOptions: { wrapNumbers },
});

/**
 * The stored item a failed conditional write carries back (ReturnValuesOnConditionCheckFailure),
 * as plain JavaScript; undefined when the error is anything else.
 */
export function existingItemOf<T>(error: unknown): T | undefined {
  if (!isConditionFailure(error)) return undefined;
  const item = (error as { Item?: Record<string, AttributeValue> }).Item;
  // A fresh options object: the document client adds convertWithoutMapWrapper to its own.
  return item ? (unmarshall(item, { wrapNumbers }) as T) : undefined;
}

/** Deletes an item if it exists, in one round trip; false when there was none. */
export async function deleteIfExists(
  TableName: string,
  Key: Record<string, string>,
): Promise<boolean> {
  try {
    await db.send(
      new DeleteCommand({
        TableName,
        Key,
        ConditionExpression: "attribute_exists(#key)",
        ExpressionAttributeNames: { "#key": Object.keys(Key)[0] as string },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

const TRANSACTION_ATTEMPTS = 10;

/**
 * One TransactWriteItems, sent again after a short random pause when DynamoDB cancels it for a
 * conflict (concurrent writes to the same item, e.g. many plays of one user): a cancelled
 * transaction applied nothing, so repeating it is safe. Other errors pass through.
 */
export async function transact(
  TransactItems: TransactWriteCommandInput["TransactItems"],
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await db.send(new TransactWriteCommand({ TransactItems }));
      return;
    } catch (error) {
      if (attempt >= TRANSACTION_ATTEMPTS || !isTransactionConflict(error)) throw error;
      await sleep(Math.random() * Math.min(100, 5 * 2 ** attempt));
    }
  }
}
