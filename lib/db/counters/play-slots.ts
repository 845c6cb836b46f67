/**
 * The cooldown's record of one counted play (`counter_id: "play#<slot>"`, `played_at` in epoch
 * ms), slot = floor(played_at / cooldown): see countPlay. DynamoDB's TTL (`expires_at`) removes it
 * once no admissible play can be near it.
 */
import { COUNTERS } from "../../kinds/counters.ts";
import { keyOf } from "../../kinds/kind.ts";
import { COUNTERS_TABLE } from "./table.ts";
import { FIRST_SEEN, NOT_DELETING, userCounterKey } from "./user.ts";

/** How far back a play may be sent (CONTRACT: Plays): older is 400 invalid_played_at. */
export const MAX_PLAY_AGE_MS = 7 * 24 * 3600 * 1000;
/** Slot items outlive the oldest play admissible beside them by this much. */
const SLOT_MARGIN_MS = 24 * 3600 * 1000;

const playSlotKey = (userId: string, slot: number) => keyOf(COUNTERS, userId, `play#${slot}`);

/**
 * Transaction items of one counted play at `playedAt` (epoch ms): one more in the user's total
 * (refused while the account is being deleted) and, with a cooldown C, the cooldown's record.
 * Two counted plays are at least C apart by their play times, whatever order they arrive in:
 * each counted play is an item in its slot floor(t / C), so a play at t can only be closer than
 * C to plays in slots s - 1, s and s + 1. The play puts slot s's item (refused when there is one:
 * a play in the same slot is closer than C) and checks that s - 1's is at most t - C and s + 1's
 * at least t + C (or absent), in the same transaction: concurrent plays near each other touch a
 * common item, so DynamoDB serialises them and one is refused. Refusals carry the stored play
 * (ALL_OLD: `playedAtFound`). Without a cooldown, no slot items at all.
 */
export function countPlay(userId: string, playedAt: number, cooldownSeconds: number) {
  const userPlays = {
    Update: {
      TableName: COUNTERS_TABLE,
      Key: userCounterKey(userId),
      UpdateExpression: `ADD total_plays :one SET ${FIRST_SEEN}`,
      ConditionExpression: NOT_DELETING,
      ExpressionAttributeValues: { ":one": 1, ":seen": new Date().toISOString() },
      ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const,
    },
  };
  if (cooldownSeconds <= 0) return { userPlays };
  const cooldown = cooldownSeconds * 1000;
  const slot = Math.floor(playedAt / cooldown);
  const neighbour = (offset: -1 | 1) => ({
    ConditionCheck: {
      TableName: COUNTERS_TABLE,
      Key: playSlotKey(userId, slot + offset),
      ConditionExpression:
        offset < 0
          ? "attribute_not_exists(played_at) OR played_at <= :bound"
          : "attribute_not_exists(played_at) OR played_at >= :bound",
      ExpressionAttributeValues: { ":bound": playedAt + offset * cooldown },
      ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const,
    },
  });
  return {
    userPlays,
    playSlot: {
      Put: {
        TableName: COUNTERS_TABLE,
        Item: {
          ...playSlotKey(userId, slot),
          played_at: playedAt,
          // Epoch seconds, as DynamoDB's TTL reads them.
          expires_at: Math.ceil((playedAt + MAX_PLAY_AGE_MS + cooldown + SLOT_MARGIN_MS) / 1000),
        },
        ConditionExpression: `attribute_not_exists(${COUNTERS.sortKey})`,
        ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const,
      },
    },
    playBefore: neighbour(-1),
    playAfter: neighbour(1),
  };
}

/** The play time a refused countPlay item found stored (ALL_OLD, epoch ms), if it says. */
export function playedAtFound(item: Record<string, unknown> | undefined): number | undefined {
  return typeof item?.played_at === "number" ? item.played_at : undefined;
}
