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
