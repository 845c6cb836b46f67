import type { WriteRefusal } from "../refusals.ts";
import type { Refusal } from "./client.ts";

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
