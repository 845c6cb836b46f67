/**
 * A transaction's refusal as the API answers it, from the names of the items whose condition
 * failed (lib/db/client.ts Refusal).
 */
import type { WriteRefusal } from "../refusals.ts";
import type { Refusal } from "./client.ts";
import { RECORD_ITEM } from "./idempotency.ts";

/**
 * What a refusal means: `meaning[name]` is what the failure of the item of that name means. An
 * earlier request with the same Idempotency-Key (its record refused) wins over every other
 * reason; any refused item whose stored copy (ALL_OLD) says `deleting` makes it "deleting" (the
 * account is going: what else refused no longer matters); otherwise the first refused item, in
 * the transaction's order, says what it means. That item having no meaning is a bug: it throws.
 */
export function refusalOf<N extends string>(
  refusal: Refusal<N> | undefined,
  meaning: Partial<Record<N, WriteRefusal>>,
): WriteRefusal | undefined {
  if (!refusal) return undefined;
  const failed = [...refusal.failed] as string[];
  if (failed.includes(RECORD_ITEM)) return "duplicate_key";
  if (failed.some((name) => refusal.items[name as N]?.deleting === true)) return "deleting";
  const first = failed[0] as N;
  const reason = meaning[first];
  if (!reason) throw new Error(`unexpected condition failure on ${first}`);
  return reason;
}
