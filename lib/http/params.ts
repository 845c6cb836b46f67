import { idFromIdempotencyKey, newId, ULID_PATTERN } from "../ids.ts";
import { ListQuery, parse } from "../schemas/index.ts";
import { BadRequestError, NotFoundError } from "./errors.ts";
import type { HttpEvent } from "./middleware.ts";

export const DEFAULT_PAGE_SIZE = 50;

export function listQuery(event: HttpEvent): { limit: number; cursor: string | undefined } {
  const query = parse(ListQuery, event.queryStringParameters ?? {}, "Query");
  return {
    limit: query.limit === undefined ? DEFAULT_PAGE_SIZE : Number(query.limit),
    cursor: query.cursor,
  };
}

/** An id from the path. Anything this API could not have issued is simply not found. */
export function itemId(event: HttpEvent, name: string, what: string): string {
  const id = event.pathParameters?.[name];
  if (!id || !ULID_PATTERN.test(id))
    throw new NotFoundError(`${what} not found`, `${what.toLowerCase()}_not_found`);
  return id;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** The optional Idempotency-Key header: 1 to 255 visible ASCII characters. */
export function idempotencyKey(event: HttpEvent): string | undefined {
  const key = event.headers?.["idempotency-key"] ?? event.headers?.["Idempotency-Key"];
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new BadRequestError(
      "Idempotency-Key must be 1 to 255 visible ASCII characters",
      "invalid_idempotency_key",
    );
  }
  return key;
}

/**
 * The id of the item a POST creates: derived from the caller and the Idempotency-Key when the
 * client sent one, so a retry addresses the first item; otherwise a fresh ULID.
 */
export function newItemId(event: HttpEvent, owner: string): string {
  const key = idempotencyKey(event);
  return key ? idFromIdempotencyKey(owner, key) : newId();
}
