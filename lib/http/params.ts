import { NotFoundError } from "../errors.ts";
import { ULID_PATTERN } from "../ids.ts";
import { ListQuery, parse } from "../schemas/index.ts";
import type { HttpEvent } from "./types.ts";

const DEFAULT_PAGE_SIZE = 50;

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
