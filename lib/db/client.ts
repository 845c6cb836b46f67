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
import { config } from "../config.ts";
import { currentFunction, recordIamCalls } from "../instrumentation/call-log.ts";
import { type AGAIN, CONTENTION, RetriesExhausted, retry, UNPROCESSED_ITEMS } from "../retry.ts";
import { meterCapacity } from "./capacity.ts";
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

meterCapacity(dynamodb);
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

type TransactItems = NonNullable<TransactWriteCommandInput["TransactItems"]>;
/** One item of a TransactWriteItems: a Put, Update, Delete or ConditionCheck. */
type TransactItem = TransactItems[number];

/**
 * A transaction's items by name, sent in the order written (an absent one is left out). The
 * name is how a refusal says which item refused: `refusal.failed.has("quota")`, never a position.
 */
export type NamedItems<N extends string = string> = Partial<Record<N, TransactItem>>;

/**
 * Why DynamoDB refused a transaction: the names of the items whose condition failed, and the
 * stored item of each that asked for it (ReturnValuesOnConditionCheckFailure: ALL_OLD).
 */
export interface Refusal<N extends string = string> {
  failed: ReadonlySet<N>;
  items: Partial<Record<N, Record<string, unknown>>>;
}

/** A transaction DynamoDB cancelled for a conflict: it applied nothing, and may be sent again. */
export const CONFLICT: unique symbol = Symbol("conflict");

/** Sends one TransactWriteItems once: its Refusal, CONFLICT, or undefined when it committed. */
export type SendTransaction = <N extends string>(
  items: NamedItems<N>,
) => Promise<Refusal<N> | undefined | typeof CONFLICT>;

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
  const send: SendTransaction = (items) =>
    sendTransaction(items, (error) => {
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
export function transactOnce<N extends string>(items: NamedItems<N>) {
  return sendTransaction(items, () => {});
}

async function sendTransaction<N extends string>(
  items: NamedItems<N>,
  onConflict: (error: unknown) => void,
): Promise<Refusal<N> | undefined | typeof CONFLICT> {
  const named = (Object.entries(items) as [N, TransactItem | undefined][]).filter(
    (entry): entry is [N, TransactItem] => entry[1] !== undefined,
  );
  try {
    await db.send(new TransactWriteCommand({ TransactItems: named.map(([, item]) => item) }));
    return undefined;
  } catch (error) {
    if (isTransactionConflict(error)) {
      onConflict(error);
      return CONFLICT;
    }
    // DynamoDB answers one reason per item, in the order sent.
    const reasons = cancellationReasons(error);
    const failed = new Set<N>();
    const stored: Partial<Record<N, Record<string, unknown>>> = {};
    for (const [i, reason] of (reasons ?? []).entries()) {
      const name = named[i]?.[0];
      if (name === undefined || reason.Code !== "ConditionalCheckFailed") continue;
      failed.add(name);
      if (reason.Item) stored[name] = unmarshallItem(reason.Item);
    }
    if (failed.size === 0) throw error;
    return { failed, items: stored };
  }
}

/**
 * One TransactWriteItems: undefined when it committed, a Refusal when a condition failed. A
 * transaction cancelled for a conflict (concurrent writes to one item, e.g. plays of one user)
 * applied nothing, so it is sent again, at most 5 times in all (withTransactions).
 */
export function transact<N extends string>(items: NamedItems<N>): Promise<Refusal<N> | undefined> {
  return withTransactions(async (send, again) => {
    const outcome = await send(items);
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

/** One table's part of a shared BatchGetItem: its keys, and what the items found there mean. */
export interface TableRead<T> {
  table: string;
  keys: Key[];
  consistent?: boolean;
  /** What the items of `table` found (in no particular order) come to. */
  found: (items: Item[]) => T;
}

type ReadResults<R> = { [K in keyof R]: R[K] extends TableRead<infer T> ? T : never };

/**
 * Reads of several tables in one BatchGetItem (each table once, 100 keys in all), each answered
 * as its own module decodes it: a table's item shape stays in its module.
 */
export async function readTogether<R extends Record<string, TableRead<unknown>>>(
  reads: R,
): Promise<ReadResults<R>> {
  const parts = Object.entries(reads);
  const tables = new Set(parts.map(([, read]) => read.table));
  if (tables.size !== parts.length) throw new Error("readTogether reads each table once");
  const found = await batchGet(
    Object.fromEntries(
      parts.map(([, { table, keys, consistent }]) => [
        table,
        { keys, ...(consistent === undefined ? {} : { consistent }) },
      ]),
    ),
  );
  return Object.fromEntries(
    parts.map(([name, read]) => [name, read.found(found[read.table] ?? [])]),
  ) as ReadResults<R>;
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
