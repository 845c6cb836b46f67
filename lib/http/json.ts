import { BadRequestError, UnsupportedMediaTypeError } from "../errors.ts";

/** Keys that could reach an object's prototype if a body were ever merged with a setter. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set([
  "__proto__",
  "constructor",
  "prototype",
]);

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

const MEDIA_TYPE = /^[A-Za-z0-9!#$&^_.+-]{1,64}\/[A-Za-z0-9!#$&^_.+-]{1,64}$/;

/**
 * Refuses (415) a request body whose `Content-Type` is not `application/json`: the media type
 * compared case-insensitively (RFC 9110 §8.3.1), parameters allowed, a `charset` only as utf-8
 * (JSON between systems is UTF-8, RFC 8259 §8.1, and the body is read as such). A missing
 * header is refused too: a form post (curl -d's default) must not be read as JSON by accident.
 */
export function requireJsonContentType(contentType: string | undefined): void {
  const [mediaType = "", ...parameters] = (contentType ?? "").split(";");
  const type = mediaType.trim().toLowerCase();
  if (type !== "application/json") {
    const got =
      contentType === undefined || type === ""
        ? "none was sent"
        : MEDIA_TYPE.test(type)
          ? `got ${type}`
          : "got another media type";
    throw new UnsupportedMediaTypeError(
      `Send the request body as JSON with Content-Type: application/json (${got})`,
    );
  }
  const charset = parameters
    .map((parameter) => parameter.split("=").map((part) => part.trim()))
    .find(([name]) => name?.toLowerCase() === "charset");
  if (charset && charset[1]?.replace(/^"(.*)"$/, "$1").toLowerCase() !== "utf-8") {
    throw new UnsupportedMediaTypeError(
      "JSON request bodies are UTF-8: send Content-Type: application/json (charset=utf-8 or none)",
    );
  }
}
