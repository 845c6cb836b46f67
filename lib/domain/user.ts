import { stampFirstSeen } from "../db/counters/user.ts";
import { getUserRecord, type Profile } from "../db/profiles.ts";
import { BadRequestError } from "../errors.ts";
import type { Metadata } from "../schemas/index.ts";

/**
 * The user object of `GET /users/{userId}`, as a Management API client expects it: `created_at`
 * is when the API first saw the user (their first write of any kind: metadata, a genre, a song,
 * a playlist, a play, or their first read with nothing stored), `updated_at` the last change of
 * what the object shows (metadata, genre), and never null. Auth0's `fields` and
 * `include_fields` choose what it carries.
 */
export interface UserObject {
  user_id: string;
  user_metadata: Metadata;
  app_metadata: Metadata;
  created_at: string;
  updated_at: string;
}

const USER_FIELDS = [
  "user_id",
  "user_metadata",
  "app_metadata",
  "created_at",
  "updated_at",
] as const;

/** The earlier of two ISO 8601 UTC times (they compare as text), either may be missing. */
function earliest(a: string | null | undefined, b: string | null | undefined): string | undefined {
  if (!a) return b ?? undefined;
  if (!b) return a;
  return a < b ? a : b;
}

/**
 * The object from the profile and the first-seen time. One of them is set by then (readUser);
 * were neither, during an account's erasure, the epoch stands in rather than a null.
 */
export function userObject(profile: Profile, firstSeenAt: string | undefined): UserObject {
  const createdAt = earliest(profile.createdAt, firstSeenAt) ?? new Date(0).toISOString();
  return {
    user_id: profile.userId,
    user_metadata: profile.userMetadata,
    app_metadata: profile.appMetadata,
    created_at: createdAt,
    updated_at: profile.updatedAt ?? createdAt,
  };
}

/**
 * What is stored of a user, or undefined when nothing is. A signed-in user reading themself
 * with nothing stored is seen now: the time is kept (one write, once), so the object's times
 * read the same ever after and its ETag ("0") stays true.
 */
export async function readUser(
  userId: string,
  self: boolean,
): Promise<{ profile: Profile | undefined; firstSeenAt: string | undefined }> {
  const record = await getUserRecord(userId);
  if (record.profile?.createdAt || record.firstSeenAt || !self) return record;
  return { profile: record.profile, firstSeenAt: await stampFirstSeen(userId) };
}

/**
 * Auth0's projection: `fields` a comma-separated list, `include_fields=false` to leave those out
 * (default true). Names this object does not carry (Auth0's `email`, ...) select nothing, as on
 * Auth0 for a field a user lacks; an empty list is the whole object.
 */
export function userFields(
  query: Record<string, string | undefined>,
): (user: UserObject) => Partial<UserObject> {
  const { fields, include_fields: include } = query;
  if (include !== undefined && include !== "true" && include !== "false") {
    throw new BadRequestError("include_fields must be true or false", "invalid_query");
  }
  if (fields !== undefined && fields.length > 1024) {
    throw new BadRequestError("fields must be at most 1024 characters", "invalid_query");
  }
  const names = new Set(
    (fields ?? "")
      .split(",")
      .map((name) => name.trim())
      .filter(Boolean),
  );
  if (names.size === 0) return (user) => user;
  const keep = (name: string) => names.has(name) === (include !== "false");
  return (user) =>
    Object.fromEntries(
      USER_FIELDS.filter(keep).map((name) => [name, user[name]]),
    ) as Partial<UserObject>;
}
