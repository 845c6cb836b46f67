/**
 * What DynamoDB's errors mean, without importing the SDK (the error mapper of every function,
 * the public ones included, uses these).
 */

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

/** A transaction DynamoDB cancelled because another write to one of its items was in flight. */
export function isTransactionConflict(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === "TransactionConflictException") return true;
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
  return (
    error.name === "TransactionCanceledException" &&
    !!reasons?.some((r) => r.Code === "TransactionConflict")
  );
}
