import type { Refusal } from "./client.ts";

/**
 * Why a write did not happen, in the db layer's terms; functions decide what the caller sees.
 * - not_found: the item to change does not exist
 * - quota: the user's quota is used up
 * - deleting: the account is being deleted
 * - duplicate_key: an idempotency record for this request exists already
 * - too_soon: a play within the cooldown
 * - precondition: the stored version fails the caller's If-Match
 */
export type WriteRefusal =
  | "not_found"
  | "quota"
  | "deleting"
  | "duplicate_key"
  | "too_soon"
  | "precondition";

/** A refusal thrown where returning it would not reach the caller (inside retries). */
export class Refused extends Error {
  constructor(
    readonly reason: WriteRefusal,
    /** What the caller should be told, when the layer above knows better than the reason. */
    readonly detail?: string,
  ) {
    super(`write refused: ${reason}`);
    this.name = "Refused";
  }
}

/**
 * The refusal of a transaction, from the items whose condition failed: `meaning[i]` is what
 * item i's failure means. An earlier request with the same key wins over every other reason;
 * a user counter that refused because the account is being deleted says "deleting".
 */
export function refusalOf(
  refusal: Refusal | undefined,
  meaning: (WriteRefusal | undefined)[],
): WriteRefusal | undefined {
  if (!refusal) return undefined;
  if (meaning.some((reason, i) => reason === "duplicate_key" && refusal.failed[i])) {
    return "duplicate_key";
  }
  const index = refusal.failed.indexOf(true);
  if (refusal.items[index]?.deleting === true) return "deleting";
  const reason = meaning[index];
  if (!reason) throw new Error(`unexpected condition failure on transaction item ${index}`);
  return reason;
}
