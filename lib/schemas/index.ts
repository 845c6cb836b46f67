/**
 * The contract's input limits, defined once: what route declarations (lib/http/route.ts)
 * validate with and lib/http/openapi.ts documents (npm run check fails on a stale document). This
 * module holds what every function shares; each area's bodies and queries have their own
 * (profile.ts, library.ts, lists.ts, hook.ts), since esbuild cannot drop a zod schema nobody
 * uses: a function builds at cold start every schema of the modules it imports. The answers
 * live in lib/schemas/answers.ts, which no function loads.
 */
import { en } from "zod/locales";
import * as z from "zod/mini";
import { validate } from "../validate.ts";

// English messages for zod's own checks (zod/mini ships without a locale).
z.config(en());

const NO_CONTROL_CHARACTERS = /^[^\p{Cc}]*$/u;

/**
 * How a schema is documented when its JSON Schema would say less than the API does: a query
 * parameter read as a string but meaning an integer, an id whose pattern only decides 404.
 * lib/http/openapi.ts documents a schema registered here as this JSON Schema instead.
 */
export const documentedAs = z.registry<Record<string, unknown>>();

/** An Idempotency-Key: 1 to 255 visible ASCII characters (checked here, documented as is). */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** A required text field: trimmed, 1 to `max` characters, no control characters. */
export function text(field: string, max: number) {
  return z
    .string(`${field} must be a string`)
    .check(
      z.trim(),
      z.minLength(1, `${field} must not be empty`),
      z.maxLength(max, `${field} must be at most ${max} characters`),
      z.regex(NO_CONTROL_CHARACTERS, `${field} must not contain control characters`),
    );
}

/** A song's or a profile's genre. */
export const Genre = text("genre", 64);

/** A metadata object: any JSON object; its keys and size are checked by lib/domain/metadata.ts. */
export const Metadata = z.record(z.string(), z.unknown());
export type Metadata = z.output<typeof Metadata>;
/** Validates input against a schema; the 400's message names every problem found. */
export function parse<T extends z.ZodMiniType>(
  schema: T,
  input: unknown,
  what = "Request body",
): z.output<T> {
  return validate<z.output<T>>(schema as never, input, what);
}
