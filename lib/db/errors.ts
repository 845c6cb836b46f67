import type { AttributeValue } from "@aws-sdk/client-dynamodb";

/**
 * What DynamoDB's errors mean, in the db layer's own terms. Functions decide what a caller sees;
 * these only say whether a fault is transient (DynamoDB or the network, worth a 503) or a lost
 * condition.
 */

export function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === "ConditionalCheckFailedException";
}

export interface CancellationReason {
  Code?: string;
  /** The stored item, raw, when the write asked for it (ReturnValuesOnConditionCheckFailure). */
  Item?: Record<string, AttributeValue>;
}

/** Per item of a cancelled transaction, why DynamoDB cancelled it; undefined for other errors. */
export function cancellationReasons(error: unknown): CancellationReason[] | undefined {
  if (!(error instanceof Error) || error.name !== "TransactionCanceledException") return undefined;
  return (error as { CancellationReasons?: CancellationReason[] }).CancellationReasons ?? [];
}

/** A transaction DynamoDB cancelled because another write to one of its items was in flight. */
export function isTransactionConflict(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === "TransactionConflictException") return true;
  return !!cancellationReasons(error)?.some((r) => r.Code === "TransactionConflict");
}

/** Names the SDK gives to faults that are DynamoDB's or the network's, not the request's. */
const TRANSIENT_NAMES = new Set([
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "RequestLimitExceeded",
  "InternalServerError",
  "ServiceUnavailable",
  "TimeoutError",
  "RequestTimeout",
  "TransactionInProgressException",
]);
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EAI_AGAIN"]);

/** A fault that may pass: the same request later can succeed. */
export function isTransient(error: unknown): boolean {
  if (!error || typeof error !== "object") return false;
  const { name, code } = error as { name?: string; code?: string };
  return (
    (!!name && TRANSIENT_NAMES.has(name)) ||
    (!!code && NETWORK_CODES.has(code)) ||
    isTransactionConflict(error)
  );
}

/** A pagination cursor this API did not issue to this caller for this list. */
export class InvalidCursor extends Error {
  constructor() {
    super("cursor is invalid: pass the nextCursor of a previous page unchanged");
    this.name = "InvalidCursor";
  }
}
