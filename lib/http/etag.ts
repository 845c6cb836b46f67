import { BadRequestError } from "./errors.ts";
import type { HttpEvent } from "./middleware.ts";

/** Strong ETags from a profile's write counter: `"3"`. */
export function etagOf(version: number): string {
  return `"${version}"`;
}

/** Whether a stored version satisfies the request's If-Match. */
export type VersionPrecondition = (version: number) => boolean;

/**
 * The request's `If-Match` as a test on the stored version, or undefined without the header.
 * `*` means "the profile exists"; otherwise one of the listed ETags must be current.
 */
export function ifMatch(event: HttpEvent): VersionPrecondition | undefined {
  const header = event.headers?.["if-match"] ?? event.headers?.["If-Match"];
  if (header === undefined) return undefined;
  if (header.trim() === "*") return (version) => version > 0;
  const versions = header.split(",").map((tag) => {
    const match = /^\s*(?:W\/)?"(\d{1,15})"\s*$/.exec(tag);
    if (!match?.[1])
      throw new BadRequestError('If-Match must hold ETags such as "3"', "invalid_if_match");
    return Number(match[1]);
  });
  return (version) => versions.includes(version);
}
