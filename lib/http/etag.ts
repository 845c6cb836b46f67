import type { IfVersion } from "../db/profile-item.ts";
import { BadRequestError } from "../errors.ts";
import type { HttpEvent } from "./types.ts";

/** Strong ETags from a profile's write counter: `"3"`. */
export function etagOf(version: number): string {
  return `"${version}"`;
}

/**
 * One entity-tag of a list (RFC 9110 §8.8.3): optional `W/`, then a quoted opaque tag of etagc
 * (any visible character but `"`, and obs-text), so a comma may sit inside the quotes.
 */
const ENTITY_TAG = /^(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"/;
/** A version the API wrote: what a strong tag must name to match anything. */
const VERSION = /^\d{1,15}$/;

const malformed = () =>
  new BadRequestError('If-Match must hold ETags such as "3"', "invalid_if_match");

/**
 * The request's `If-Match` (RFC 9110 §13.1.1), or undefined without the header. `*` matches any
 * profile a read shows. Otherwise it must be a list of entity-tags (else 400); a stored version
 * matches only a strong tag naming it, so a weak tag (`W/"3"`) or one this API never issued
 * (`"abc"`) is well-formed but matches nothing: the caller's 412, not a 400.
 */
export function ifMatch(event: HttpEvent): IfVersion | undefined {
  const header = event.headers?.["if-match"];
  if (header === undefined) return undefined;
  if (header.trim() === "*") return "*";
  const versions: number[] = [];
  let tags = 0;
  // #entity-tag: elements separated by commas and optional whitespace, empty ones allowed.
  let rest = header.trim();
  while (rest) {
    if (rest.startsWith(",")) {
      rest = rest.slice(1).trimStart();
      continue;
    }
    const tag = ENTITY_TAG.exec(rest);
    if (!tag) throw malformed();
    tags++;
    const opaque = tag[2] ?? "";
    if (!tag[1] && VERSION.test(opaque)) versions.push(Number(opaque));
    rest = rest.slice(tag[0].length).trimStart();
    if (rest && !rest.startsWith(",")) throw malformed();
  }
  if (tags === 0) throw malformed();
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
  const header = event.headers?.["if-match"];
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
