/**
 * The tombstone (`counter_id: "tombstone"`): what outlives an erased account, an operator's
 * `denied_roles` and nothing else (CONTRACT: Data rights), applied again if the user id returns.
 */
import { COUNTERS } from "../../kinds/counters.ts";
import { keyOf } from "../../kinds/kind.ts";
import { COUNTERS_TABLE } from "./table.ts";

export const tombstoneKey = (userId: string) => keyOf(COUNTERS, userId, "tombstone");

/** Transaction item: the roles an operator denied, kept for an erased account. */
export function putTombstone(userId: string, deniedRoles: readonly string[]) {
  return {
    Put: {
      TableName: COUNTERS_TABLE,
      Item: { ...tombstoneKey(userId), denied_roles: [...deniedRoles] },
    },
  };
}

/** The denied roles a tombstone item holds (none without one). */
export function tombstoneDeniedRoles(item: { denied_roles?: unknown } | undefined): string[] {
  const roles = item?.denied_roles;
  return Array.isArray(roles) ? roles.filter((r): r is string => typeof r === "string") : [];
}

/** Transaction item: the tombstone goes (its denials were copied, or there are none to keep). */
export function deleteTombstone(userId: string) {
  return { Delete: { TableName: COUNTERS_TABLE, Key: tombstoneKey(userId) } };
}
