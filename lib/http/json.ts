import { BadRequestError } from "./errors.ts";

/** Keys that could reach an object's prototype if a body were ever merged with a setter. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set([
  "__proto__",
  "constructor",
  "prototype",
]);

/**
 * JSON.parse with a reviver that refuses prototype-polluting keys at any depth, so they never
 * reach code that might merge objects. The message names the key so the caller can fix it.
 */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text, function reviver(key, value) {
      if (FORBIDDEN_KEYS.has(key)) {
        throw new BadRequestError(`Key "${key}" is not allowed`, "invalid_key");
      }
      return value;
    });
  } catch (error) {
    if (error instanceof BadRequestError) throw error;
    throw new BadRequestError("Request body is not valid JSON", "invalid_json");
  }
}
