import { setTimeout as sleep } from "node:timers/promises";
import { DeleteCommand, GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { config } from "../config.ts";
import type { Metadata } from "../domain/metadata.ts";
import { ConflictError, PreconditionFailedError } from "../http/errors.ts";
import { db } from "./client.ts";
import { isConditionFailure } from "./errors.ts";

/**
 * The profiles table: one item per user, keyed by `user_id`, holding both metadata objects,
 * the favourite genre and the running total of the user's playlist plays.
 * `version` counts metadata writes; it is the ETag and the guard against lost updates.
 */
export const PROFILES_TABLE = config().tables.profiles;

export interface Profile {
  userId: string;
  userMetadata: Metadata;
  appMetadata: Metadata;
  favGenre: string | null;
  totalPlays: number;
  /** 0 while no metadata was ever written. */
  version: number;
  createdAt: string | null;
  updatedAt: string | null;
}

interface ProfileItem {
  user_id: string;
  user_metadata?: Metadata;
  app_metadata?: Metadata;
  fav_genre?: string;
  total_plays?: number;
  version?: number;
  created_at?: string;
  updated_at?: string;
}

export const profileKey = (userId: string) => ({ user_id: userId });

function fromItem(item: ProfileItem): Profile {
  return {
    userId: item.user_id,
    userMetadata: item.user_metadata ?? {},
    appMetadata: item.app_metadata ?? {},
    favGenre: item.fav_genre ?? null,
    totalPlays: item.total_plays ?? 0,
    version: item.version ?? 0,
    createdAt: item.created_at ?? null,
    updatedAt: item.updated_at ?? null,
  };
}

export function emptyProfile(userId: string): Profile {
  return fromItem({ user_id: userId });
}

export async function getProfile(userId: string): Promise<Profile | undefined> {
  const { Item } = await db.send(
    new GetCommand({ TableName: PROFILES_TABLE, Key: profileKey(userId), ConsistentRead: true }),
  );
  return Item ? fromItem(Item as ProfileItem) : undefined;
}

export interface MetadataPair {
  userMetadata: Metadata;
  appMetadata: Metadata;
}

/** Writes both metadata objects only if no other write landed since `current` was read. */
async function writeMetadata(current: Profile, next: MetadataPair): Promise<Profile> {
  const now = new Date().toISOString();
  const { Attributes } = await db.send(
    new UpdateCommand({
      TableName: PROFILES_TABLE,
      Key: profileKey(current.userId),
      UpdateExpression:
        "SET user_metadata = :um, app_metadata = :am, version = :next, updated_at = :now, created_at = if_not_exists(created_at, :now)",
      ConditionExpression:
        current.version === 0 ? "attribute_not_exists(version)" : "version = :expected",
      ExpressionAttributeValues: {
        ":um": next.userMetadata,
        ":am": next.appMetadata,
        ":next": current.version + 1,
        ":now": now,
        ...(current.version === 0 ? {} : { ":expected": current.version }),
      },
      ReturnValues: "ALL_NEW",
    }),
  );
  return fromItem(Attributes as ProfileItem);
}

/**
 * Enough for dozens of writers on one profile at once (40 concurrent PATCHes take about 7
 * attempts on average locally), while the worst case, about 40 × 150 ms of backoff, stays
 * inside the function's 10 s timeout.
 */
const MAX_ATTEMPTS = 40;

export interface ModifyOptions {
  /** The client's If-Match: when the stored version fails it, 412 and nothing is written. */
  precondition?: ((version: number) => boolean) | undefined;
}

/**
 * Read, compute, conditionally write; on a concurrent write, read again and recompute. Every
 * write is checked against what is stored, so limits hold and no concurrent change is lost.
 * `compute` returns undefined when nothing needs to change: then nothing is written.
 */
export async function modifyMetadata(
  userId: string,
  compute: (current: Profile) => MetadataPair | undefined,
  options: ModifyOptions = {},
): Promise<{ profile: Profile; changed: boolean }> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const current = (await getProfile(userId)) ?? emptyProfile(userId);
    if (options.precondition && !options.precondition(current.version)) {
      throw new PreconditionFailedError();
    }
    const next = compute(current);
    if (!next) return { profile: current, changed: false };
    try {
      return { profile: await writeMetadata(current, next), changed: true };
    } catch (error) {
      // Another write landed: the next read decides (a precondition on the old version fails).
      if (!isConditionFailure(error)) throw error;
      // Full jitter keeps colliding writers from retrying in lockstep.
      await sleep(Math.random() * Math.min(150, 5 * 2 ** attempt));
    }
  }
  throw new ConflictError(
    "The profile is being changed by many requests at once; retry",
    "write_conflict",
  );
}

export async function setFavGenre(userId: string, genre: string): Promise<void> {
  const now = new Date().toISOString();
  await db.send(
    new UpdateCommand({
      TableName: PROFILES_TABLE,
      Key: profileKey(userId),
      UpdateExpression:
        "SET fav_genre = :genre, updated_at = :now, created_at = if_not_exists(created_at, :now)",
      ExpressionAttributeValues: { ":genre": genre, ":now": now },
    }),
  );
}

/** A transaction item that moves the user's play total by `delta` (creating the item if needed). */
export function addPlaysToTotal(userId: string, delta: number) {
  return {
    Update: {
      TableName: PROFILES_TABLE,
      Key: profileKey(userId),
      // A blind ADD: no read of the item, so concurrent plays of one user stay cheap.
      UpdateExpression: "ADD total_plays :delta",
      ExpressionAttributeValues: { ":delta": delta },
    },
  };
}

/** Deletes the profile; with `expectedVersion`, only if it is still that version (else 412). */
export async function deleteProfile(
  userId: string,
  expectedVersion?: number | undefined,
): Promise<void> {
  try {
    await db.send(
      new DeleteCommand({
        TableName: PROFILES_TABLE,
        Key: profileKey(userId),
        ...(expectedVersion === undefined
          ? {}
          : expectedVersion === 0
            ? { ConditionExpression: "attribute_not_exists(version)" }
            : {
                ConditionExpression: "version = :expected",
                ExpressionAttributeValues: { ":expected": expectedVersion },
              }),
      }),
    );
  } catch (error) {
    if (isConditionFailure(error)) throw new PreconditionFailedError();
    throw error;
  }
}
