import type { IfVersion } from "../db/profiles.ts";
import { BadRequestError } from "../errors.ts";
import type { HttpEvent } from "./types.ts";

/** Strong ETags from a profile's write counter: `"3"`. */
export function etagOf(version: number): string {
  return `"${version}"`;
}

const STRONG_ETAG = /^\s*"(\d{1,15})"\s*$/;
const WEAK_ETAG = /^\s*W\/"(\d{1,15})"\s*$/;

/**
 * The request's `If-Match` (RFC 9110 §13.1.1), or undefined without the header. `*` matches any
 * profile a read shows. Otherwise a stored version matches only a strong ETag naming it: a weak
 * tag (`W/"3"`) is well-formed but never matches.
 */
export function ifMatch(event: HttpEvent): IfVersion | undefined {
  const header = event.headers?.["if-match"] ?? event.headers?.["If-Match"];
  if (header === undefined) return undefined;
  if (header.trim() === "*") return "*";
  const versions: number[] = [];
  for (const tag of header.split(",")) {
    const strong = STRONG_ETAG.exec(tag);
    if (strong?.[1]) versions.push(Number(strong[1]));
    else if (!WEAK_ETAG.test(tag))
      throw new BadRequestError('If-Match must hold ETags such as "3"', "invalid_if_match");
  }
  return versions;
}

const STRONG_TAG = /^\s*"([0-9A-Za-z._-]{1,40})"\s*$/;
const WEAK_TAG = /^\s*W\/"[^"]*"\s*$/;

/**
 * The request's `If-Match` for an item whose ETag is its sync version (a playlist: `"<version>"`),
 * or undefined without the header: `*`, or the versions its strong tags name (a weak tag is
 * well-formed and never matches).
 */
export function ifMatchVersions(event: HttpEvent): "*" | string[] | undefined {
  const header = event.headers?.["if-match"] ?? event.headers?.["If-Match"];
  if (header === undefined) return undefined;
  if (header.trim() === "*") return "*";
  const versions: string[] = [];
  for (const tag of header.split(",")) {
    const strong = STRONG_TAG.exec(tag);
    if (strong?.[1]) versions.push(strong[1]);
    else if (!WEAK_TAG.test(tag))
      throw new BadRequestError("If-Match must hold ETags as GET answers them", "invalid_if_match");
  }
  return versions;
}

/** The strong ETag of an item versioned by sync. */
export const versionTag = (version: string) => `"${version}"`;
