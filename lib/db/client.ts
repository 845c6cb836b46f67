import { type AttributeValue, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { config } from "../config.ts";

const cfg = config();

/**
 * One client per container, created at cold start. Timeouts and retries are bounded so that a
 * slow or unreachable DynamoDB fails the request (503) well inside the function's own timeout.
 */
export const dynamodb = new DynamoDBClient({
  region: cfg.region,
  maxAttempts: 3,
  // throwOnRequestTimeout: without it the SDK only logs a warning and keeps waiting.
  requestHandler: { connectionTimeout: 500, requestTimeout: 1_500, throwOnRequestTimeout: true },
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

export function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === "ConditionalCheckFailedException";
}

/** Whether a cancelled transaction failed on a condition (not throttling or a conflict). */
export function transactionConditionFailures(error: unknown): boolean[] | undefined {
  if (!(error instanceof Error) || error.name !== "TransactionCanceledException") return undefined;
  const reasons =
    (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return reasons.map((reason) => reason.Code === "ConditionalCheckFailed");
}

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
