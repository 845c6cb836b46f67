import { BadRequestError } from "../errors.ts";
import { FORBIDDEN_KEYS } from "../json.ts";

/** Auth0's metadata rules, as pure functions: https://auth0.com/docs/manage-users/user-accounts/metadata/metadata-fields-data */

export type { Metadata } from "../schemas/index.ts";

import type { Metadata } from "../schemas/index.ts";
export type MetadataKind = "user_metadata" | "app_metadata";

export const MAX_METADATA_BYTES = 32 * 1024;
/** Nesting allowed inside a metadata object; DynamoDB stops at 32 levels for the whole item. */
const MAX_METADATA_DEPTH = 16;

export const RESERVED_APP_METADATA_KEYS: ReadonlySet<string> = new Set([
  "__tenant",
  "_id",
  "blocked",
  "clientID",
  "created_at",
  "email",
  "email_verified",
  "globalClientID",
  "global_client_id",
  "identities",
  "lastIP",
  "lastLogin",
  "loginsCount",
  "metadata",
  "multifactor",
  "multifactor_last_modified",
  "updated_at",
  "user_id",
]);

// DynamoDB numbers: 38 digits of precision between 1e-130 and 9.99e125 in magnitude.
const MAX_NUMBER = 9.9e125;
const MIN_NUMBER = 1e-130;

function isPlainObject(value: unknown): value is Metadata {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function checkValue(value: unknown, path: string, depth: number): void {
  if (depth > MAX_METADATA_DEPTH) {
    throw new BadRequestError(
      `${path} is nested more than ${MAX_METADATA_DEPTH} levels deep`,
      "invalid_metadata",
    );
  }
  if (typeof value === "number") {
    const magnitude = Math.abs(value);
    if (
      !Number.isFinite(value) ||
      magnitude > MAX_NUMBER ||
      (magnitude !== 0 && magnitude < MIN_NUMBER)
    ) {
      throw new BadRequestError(
        `${path} is a number out of the storable range`,
        "invalid_metadata",
      );
    }
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => {
      checkValue(item, `${path}[${index}]`, depth + 1);
    });
  } else if (isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      checkKey(key, path);
      checkValue(item, `${path}.${key}`, depth + 1);
    }
  }
}

function checkKey(key: string, parentPath: string): void {
  if (FORBIDDEN_KEYS.has(key)) {
    throw new BadRequestError(`Key "${key}" in ${parentPath} is not allowed`, "invalid_key");
  }
  if (key.includes(".") || key.includes("$")) {
    throw new BadRequestError(
      `Key "${key}" in ${parentPath} must not contain "." or "$"`,
      "invalid_key",
    );
  }
  if (key.length === 0) throw new BadRequestError(`${parentPath} has an empty key`, "invalid_key");
}

/**
 * Checks a PATCH's metadata object against Auth0's field name rules: refused keys at any
 * depth, reserved app_metadata names at the top, numbers DynamoDB can store.
 */
export function validateMetadataPatch(
  kind: MetadataKind,
  patch: unknown,
): asserts patch is Metadata {
  if (!isPlainObject(patch))
    throw new BadRequestError(`${kind} must be an object`, "invalid_metadata");
  for (const [key, value] of Object.entries(patch)) {
    checkKey(key, kind);
    if (kind === "app_metadata" && RESERVED_APP_METADATA_KEYS.has(key)) {
      throw new BadRequestError(
        `Key "${key}" is reserved by Auth0 and cannot be used in app_metadata`,
        "invalid_key",
      );
    }
    checkValue(value, `${kind}.${key}`, 1);
  }
}

/**
 * Auth0's PATCH semantics: `{}` clears, otherwise a top-level merge where `null` removes a key
 * and any other value (a nested object too) replaces the old one whole.
 */
export function mergeMetadata(current: Metadata, patch: Metadata): Metadata {
  if (Object.keys(patch).length === 0) return {};
  const merged: Metadata = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  return merged;
}

export function metadataBytes(metadata: Metadata): number {
  return Buffer.byteLength(JSON.stringify(metadata), "utf8");
}

export function checkMetadataSize(kind: MetadataKind, metadata: Metadata): void {
  const bytes = metadataBytes(metadata);
  if (bytes > MAX_METADATA_BYTES) {
    throw new BadRequestError(
      `${kind} would hold ${bytes} bytes of JSON; the limit is ${MAX_METADATA_BYTES}`,
      "metadata_too_large",
    );
  }
}
