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

const NOT_FOUND = { Song: "song_not_found", Playlist: "playlist_not_found" } as const;

/** An id from the path. Anything this API could not have issued is simply not found. */
export function itemId(event: HttpEvent, name: string, what: keyof typeof NOT_FOUND): string {
  const id = event.pathParameters?.[name];
  if (!id || !ULID_PATTERN.test(id)) throw new NotFoundError(`${what} not found`, NOT_FOUND[what]);
  return id;
}
