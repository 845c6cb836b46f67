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
import { type AGAIN, CONTENTION, RetriesExhausted, retry, UNPROCESSED_ITEMS } from "../retry.ts";
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

/** A raw DynamoDB item (from a cancelled transaction, or a refused write: ALL_OLD) as plain JavaScript. */
export function unmarshallItem<T>(item: Record<string, AttributeValue>): T {
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

/** A transaction DynamoDB cancelled for a conflict: it applied nothing, and may be sent again. */
export const CONFLICT: unique symbol = Symbol("conflict");

/** Sends one TransactWriteItems once: its Refusal, CONFLICT, or undefined when it committed. */
export type SendTransaction = (
  items: TransactItems,
) => Promise<Refusal | undefined | typeof CONFLICT>;

/**
 * Runs `attempt` under the contention policy (lib/retry.ts CONTENTION: at most 5 attempts in
 * all), giving it `send`, which sends a transaction once: undefined when it committed, a Refusal
 * when a condition failed, CONFLICT when DynamoDB cancelled it for a concurrent write to one of
 * its items (then `attempt` answers `again`). Other errors pass through. Conflicts to the end
 * throw the last one, answered as DynamoDB trouble (503 with Retry-After).
 */
export async function withTransactions<T>(
  attempt: (send: SendTransaction, again: typeof AGAIN) => Promise<T | typeof AGAIN>,
): Promise<T> {
  let lastConflict: unknown;
  const send: SendTransaction = (TransactItems) =>
    sendTransaction(TransactItems, (error) => {
      lastConflict = error;
    });
  try {
    return await retry(CONTENTION, (_n, again) => attempt(send, again));
  } catch (error) {
    if (error instanceof RetriesExhausted && lastConflict) throw lastConflict;
    throw error;
  }
}

/**
 * Sends one TransactWriteItems once, for a step that is itself retried by its own policy (a
 * retry never holds another): undefined when it committed, a Refusal, or CONFLICT.
 */
export function transactOnce(TransactItems: TransactItems) {
  return sendTransaction(TransactItems, () => {});
}

async function sendTransaction(
  TransactItems: TransactItems,
  onConflict: (error: unknown) => void,
): Promise<Refusal | undefined | typeof CONFLICT> {
  try {
    await db.send(new TransactWriteCommand({ TransactItems }));
    return undefined;
  } catch (error) {
    if (isTransactionConflict(error)) {
      onConflict(error);
      return CONFLICT;
    }
    const reasons = cancellationReasons(error);
    const failed = reasons?.map((reason) => reason.Code === "ConditionalCheckFailed");
    if (!reasons || !failed?.some(Boolean)) throw error;
    return {
      failed,
      items: reasons.map((reason) => (reason.Item ? unmarshallItem(reason.Item) : undefined)),
    };
  }
}

/**
 * One TransactWriteItems: undefined when it committed, a Refusal when a condition failed. A
 * transaction cancelled for a conflict (concurrent writes to one item, e.g. plays of one user)
 * applied nothing, so it is sent again, at most 5 times in all (withTransactions).
 */
export function transact(TransactItems: TransactItems): Promise<Refusal | undefined> {
  return withTransactions(async (send, again) => {
    const outcome = await send(TransactItems);
    return outcome === CONFLICT ? again : outcome;
  });
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
