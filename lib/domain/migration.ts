/**
 * Moving in from Auth0 (CONTRACT: Auth0 and the store in step): the start of the profile of a
 * user the store has never seen, from what Auth0 holds of them: their `user_metadata`, and of
 * `app_metadata` only `plan` and `denied_roles` (the roles themselves are earned here, never
 * taken from Auth0). Each key goes through the metadata rules on its own, so a key that breaks
 * one stays out, named, and the others still move. Pure: the post-login hook and
 * `npm run import:auth0` share it, so both write the same profile for the same user.
 */
import { BadRequestError } from "../errors.ts";
import { parse } from "../schemas/index.ts";
import { DisplayName } from "../schemas/profile.ts";
import {
  MAX_METADATA_BYTES,
  type Metadata,
  metadataBytes,
  validateMetadataPatch,
} from "./metadata.ts";

/** The app_metadata keys that move: what an operator decided. */
const MOVED_APP_KEYS = ["plan", "denied_roles"] as const;

/** What moved in: the profile's start, and the user_metadata keys moved and left out. */
export interface Migration {
  userMetadata: Metadata;
  appMetadata: Metadata;
  /** user_metadata keys moved, in Auth0's order. */
  moved: string[];
  /** user_metadata keys left out, each with the rule it broke. */
  skipped: { key: string; reason: string }[];
  /** The app_metadata keys of MOVED_APP_KEYS left out, with the rule. */
  skippedApp: { key: string; reason: string }[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Why one key may not be stored (the rule's message), or undefined when it may. */
function refusal(kind: "user_metadata" | "app_metadata", key: string, value: unknown) {
  try {
    if (value === null) throw new BadRequestError(`${kind}.${key} is null`, "invalid_metadata");
    validateMetadataPatch(kind, { [key]: value });
    if (kind === "user_metadata" && key === "displayName") parse(DisplayName, value, key);
    if (
      kind === "app_metadata" &&
      key === "denied_roles" &&
      (!Array.isArray(value) || !value.every((role) => typeof role === "string"))
    ) {
      throw new BadRequestError("denied_roles must be a list of role names", "invalid_metadata");
    }
    return undefined;
  } catch (error) {
    if (error instanceof BadRequestError) return error.message;
    throw error;
  }
}

/**
 * Keys of `source` that pass the rules, in order, while the object stays within the size limit
 * (a key that would pass it stays out too): Auth0 caps a profile at 10 KB today, but a larger
 * legacy one must not lose everything for one big key.
 */
function admit(
  kind: "user_metadata" | "app_metadata",
  source: Record<string, unknown>,
  keys: readonly string[],
) {
  const kept: Metadata = {};
  const moved: string[] = [];
  const skipped: { key: string; reason: string }[] = [];
  for (const key of keys) {
    if (!Object.hasOwn(source, key)) continue;
    const value = source[key];
    const reason = refusal(kind, key, value);
    if (reason) {
      skipped.push({ key, reason });
      continue;
    }
    const next = { ...kept, [key]: value };
    if (metadataBytes(next) > MAX_METADATA_BYTES) {
      skipped.push({ key, reason: `${kind} would pass ${MAX_METADATA_BYTES} bytes with it` });
      continue;
    }
    kept[key] = value;
    moved.push(key);
  }
  return { kept, moved, skipped };
}

/** The profile a never-seen user starts with, from Auth0's metadata of them (either may lack). */
export function migrationOf(userMetadata: unknown, appMetadata: unknown): Migration {
  const user = isObject(userMetadata) ? userMetadata : {};
  const app = isObject(appMetadata) ? appMetadata : {};
  const users = admit("user_metadata", user, Object.keys(user));
  const apps = admit("app_metadata", app, MOVED_APP_KEYS);
  return {
    userMetadata: users.kept,
    appMetadata: apps.kept,
    moved: users.moved,
    skipped: users.skipped,
    skippedApp: apps.skipped,
  };
}

/** One line of an Auth0 users export, as far as moving in reads it. */
export interface ExportedUser {
  userId: string;
  userMetadata: unknown;
  appMetadata: unknown;
}

/** A key left out of a user's profile, with the rule it broke (never its value). */
export interface LeftOut {
  userId: string;
  key: string;
  reason: string;
}

/** What moving one user in would write, and each key it leaves out. */
export function moveInPlan(user: ExportedUser): { migration: Migration; leftOut: LeftOut[] } {
  const migration = migrationOf(user.userMetadata, user.appMetadata);
  const leftOut = [
    ...migration.skipped.map(({ key, reason }) => ({
      userId: user.userId,
      key: `user_metadata.${key}`,
      reason,
    })),
    ...migration.skippedApp.map(({ key, reason }) => ({
      userId: user.userId,
      key: `app_metadata.${key}`,
      reason,
    })),
  ];
  return { migration, leftOut };
}

/** Nothing moved: the answer of a login of a user the store had seen already. */
export const NOTHING_MOVED = { moved: [] as string[], skipped: [] as string[] };
