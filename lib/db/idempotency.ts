import { GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { config } from "../config.ts";
import { db, type NamedItems } from "./client.ts";
import { isConditionFailure } from "./errors.ts";

/**
 * The idempotency table: one record per (caller, method, path, Idempotency-Key), as Stripe and
 * Powertools Idempotency keep them: the hash of the first request's body and, once known, its
 * response. Records expire after 24 h (`expires_at`, DynamoDB's TTL attribute; an expired record
 * still waiting for TTL is ignored).
 */
export const IDEMPOTENCY_TABLE = config().tables.idempotency;

const RECORD_LIFETIME_SECONDS = 24 * 3600;

/** A response as first sent: the status and the exact body text. */
export interface StoredResponse {
  status: number;
  body: string;
}

export interface IdempotencyRecord {
  bodyHash: string;
  /** Epoch ms of the first request. */
  startedAt: number;
  response: StoredResponse | undefined;
}

interface RecordItem {
  record_id: string;
  body_hash: string;
  started_at: number;
  expires_at: number;
  response_status?: number;
  response_body?: string;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** The name of the record's item in a transaction: its refusal means the key was used already. */
export const RECORD_ITEM = "idempotencyRecord";

/** The record's item, by name, to add to a transaction's own items; none without a key. */
export type RecordItems = NamedItems<typeof RECORD_ITEM>;

/**
 * Transaction item: the record of a keyed request, written in the same transaction as the work
 * so that both or neither happen. With `response`, the record is complete at once; without, the
 * response is added by completeRecord. Refused (condition) when a live record exists.
 */
export function newRecord(
  recordId: string,
  bodyHash: string,
  response?: StoredResponse,
): RecordItems {
  const now = Date.now();
  const item: RecordItem = {
    record_id: recordId,
    body_hash: bodyHash,
    started_at: now,
    expires_at: nowSeconds() + RECORD_LIFETIME_SECONDS,
    ...(response ? { response_status: response.status, response_body: response.body } : {}),
  };
  return {
    [RECORD_ITEM]: {
      Put: {
        TableName: IDEMPOTENCY_TABLE,
        Item: item,
        ConditionExpression: "attribute_not_exists(record_id) OR expires_at < :now",
        ExpressionAttributeValues: { ":now": nowSeconds() },
      },
    },
  };
}

export async function getRecord(recordId: string): Promise<IdempotencyRecord | undefined> {
  const { Item } = await db.send(
    new GetCommand({
      TableName: IDEMPOTENCY_TABLE,
      Key: { record_id: recordId },
      ConsistentRead: true,
    }),
  );
  const item = Item as RecordItem | undefined;
  if (!item || item.expires_at < nowSeconds()) return undefined;
  return {
    bodyHash: item.body_hash,
    startedAt: item.started_at,
    response:
      item.response_status !== undefined && item.response_body !== undefined
        ? { status: item.response_status, body: item.response_body }
        : undefined,
  };
}

/** Stores the response of a record written without one; the first response stored wins. */
export async function completeRecord(recordId: string, response: StoredResponse): Promise<void> {
  try {
    await db.send(
      new UpdateCommand({
        TableName: IDEMPOTENCY_TABLE,
        Key: { record_id: recordId },
        UpdateExpression: "SET response_status = :status, response_body = :body",
        ConditionExpression:
          "attribute_exists(record_id) AND attribute_not_exists(response_status)",
        ExpressionAttributeValues: { ":status": response.status, ":body": response.body },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}
