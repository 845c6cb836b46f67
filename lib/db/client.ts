import { type AttributeValue, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  BatchGetCommand,
  type BatchGetCommandInput,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { currentFunction, recordIamCalls } from "../call-log.ts";
import { config } from "../config.ts";
import { CONTENTION, RetriesExhausted, retry, UNPROCESSED_ITEMS } from "../retry.ts";
import { cancellationReasons, isTransactionConflict } from "./errors.ts";

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

if (cfg.dynamodbCallLogDir) {
  recordIamCalls(dynamodb, cfg.dynamodbCallLogDir, () => currentFunction(cfg.functionName));
}

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

/** A raw DynamoDB item (from a cancelled transaction) as plain JavaScript. */
function unmarshallItem<T>(item: Record<string, AttributeValue>): T {
  // A fresh options object: the document client adds convertWithoutMapWrapper to its own.
  return unmarshall(item, { wrapNumbers }) as T;
}

export type TransactItems = NonNullable<TransactWriteCommandInput["TransactItems"]>;

/**
 * Why DynamoDB refused a transaction: per item, whether its condition failed, and the stored
 * item when the write asked for it (ReturnValuesOnConditionCheckFailure: ALL_OLD).
 */
export interface Refusal {
  failed: boolean[];
  items: (Record<string, unknown> | undefined)[];
}

/**
 * One TransactWriteItems: undefined when it committed, a Refusal when a condition failed. A
 * transaction cancelled for a conflict (concurrent writes to one item, e.g. plays of one user)
 * applied nothing, so it is sent again under the contention policy; other errors pass through.
 */
export async function transact(TransactItems: TransactItems): Promise<Refusal | undefined> {
  let lastConflict: unknown;
  try {
    return await retry(CONTENTION, async (_n, again) => {
      try {
        await db.send(new TransactWriteCommand({ TransactItems }));
        return undefined;
      } catch (error) {
        if (isTransactionConflict(error)) {
          lastConflict = error;
          return again;
        }
        const reasons = cancellationReasons(error);
        const failed = reasons?.map((reason) => reason.Code === "ConditionalCheckFailed");
        if (!reasons || !failed?.some(Boolean)) throw error;
        return {
          failed,
          items: reasons.map((reason) => (reason.Item ? unmarshallItem(reason.Item) : undefined)),
        };
      }
    });
  } catch (error) {
    // Endless conflicts: the last one goes up, and is answered as DynamoDB trouble (503).
    if (error instanceof RetriesExhausted) throw lastConflict;
    throw error;
  }
}

type Key = Record<string, unknown>;
type Item = Record<string, unknown>;

/**
 * One BatchGetItem over tables (at most 100 keys in all, no key twice), keys DynamoDB left
 * unprocessed asked again under the unprocessed-items policy. Answers each table's items (only
 * the `projection` attributes, when given), in no particular order.
 */
export async function batchGet(
  tables: Record<string, { keys: Key[]; consistent?: boolean; projection?: string }>,
): Promise<Record<string, Item[]>> {
  const found: Record<string, Item[]> = Object.fromEntries(
    Object.keys(tables).map((table) => [table, []]),
  );
  let pending: BatchGetCommandInput["RequestItems"] = Object.fromEntries(
    Object.entries(tables)
      .filter(([, { keys }]) => keys.length > 0)
      .map(([table, { keys, consistent, projection }]) => [
        table,
        {
          Keys: keys,
          ConsistentRead: consistent ?? false,
          ...(projection ? { ProjectionExpression: projection } : {}),
        },
      ]),
  );
  if (Object.keys(pending).length === 0) return found;
  await retry(UNPROCESSED_ITEMS, async (_n, again) => {
    const { Responses, UnprocessedKeys } = await db.send(
      new BatchGetCommand({ RequestItems: pending }),
    );
    for (const [table, items] of Object.entries(Responses ?? {})) found[table]?.push(...items);
    pending = UnprocessedKeys;
    return pending && Object.keys(pending).length > 0 ? again : undefined;
  });
  return found;
}

/**
 * One BatchWriteItem of deletes in one table (at most 25 keys), keys left unprocessed sent
 * again under the unprocessed-items policy.
 */
export async function batchDelete(table: string, keys: Key[]): Promise<void> {
  let requests = keys.map((Key) => ({ DeleteRequest: { Key } }));
  await retry(UNPROCESSED_ITEMS, async (_n, again) => {
    const { UnprocessedItems } = await db.send(
      new BatchWriteCommand({ RequestItems: { [table]: requests } }),
    );
    requests = (UnprocessedItems?.[table] ?? []) as typeof requests;
    return requests.length > 0 ? again : undefined;
  });
}

/**
 * One eventually consistent read of a key nobody has (0.5 RCU): it resolves credentials and the
 * endpoint and opens the TLS connection during a container's init, not in its first request.
 */
export async function openConnection(
  TableName: string,
  Key: Record<string, string>,
  signal: AbortSignal,
): Promise<void> {
  await db.send(new GetCommand({ TableName, Key }), { abortSignal: signal });
}
