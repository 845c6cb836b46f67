/** The media type a request body must carry: HTTP's part of reading JSON (lib/json.ts reads it). */
import { UnsupportedMediaTypeError } from "../errors.ts";

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
