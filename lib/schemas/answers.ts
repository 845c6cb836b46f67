/**
 * Answers of the routes that read no request schema (getPlays, openapi): kept apart from
 * lib/schemas/index.ts (its locale and every request schema), so those functions load only the
 * zod/mini they use. No side effects here, so esbuild keeps only what is imported.
 */
import * as z from "zod/mini";

export const PlaysResult = z.strictObject({ plays: z.int() });
export const Health = z.strictObject({ status: z.literal("ok") });
export const OpenApiDocument = z.looseObject({ openapi: z.string() });
