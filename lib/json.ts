/**
 * JSON as the API reads it, whichever way a request arrives (HTTP, a direct invocation, a
 * token's claims): no prototype-polluting key, only well-formed Unicode.
 */
import { BadRequestError } from "./errors.ts";

/** Keys that could reach an object's prototype if a body were ever merged with a setter. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set([
  "__proto__",
  "constructor",
  "prototype",
]);

/**
 * A record's own value at a key a user chose, never one inherited from Object.prototype (a
 * metadata key may be "toString" or "hasOwnProperty").
 */
export function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

const LONE_SURROGATE = /\p{Cs}/u;

/** Whether a string is well-formed Unicode (no lone surrogate, which storage would replace). */
export function isWellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

/**
 * JSON.parse with a reviver that refuses prototype-polluting keys at any depth, so they never
 * reach code that might merge objects, and strings or keys that are not well-formed Unicode
 * (two different strings must never be stored as one). Messages name what to fix.
 */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text, function reviver(key, value) {
      if (FORBIDDEN_KEYS.has(key)) {
        throw new BadRequestError(`Key "${key}" is not allowed`, "invalid_key");
      }
      if (!isWellFormed(key) || (typeof value === "string" && !isWellFormed(value))) {
        throw new BadRequestError(
          "Request body holds a string that is not well-formed Unicode (a lone surrogate)",
          "invalid_unicode",
        );
      }
      return value;
    });
  } catch (error) {
    if (error instanceof BadRequestError) throw error;
    throw new BadRequestError("Request body is not valid JSON", "invalid_json");
  }
}
