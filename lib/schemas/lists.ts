/** A list's page (`limit`, `cursor`), and the cursor the export's pages take too. */
import * as z from "zod/mini";
import { documentedAs } from "./index.ts";

const DEFAULT_PAGE_SIZE = 50;

/** A list's or the export's cursor: what the previous page answered, unchanged. */
export const Cursor = z
  .optional(z.string().check(z.maxLength(2048, "cursor is invalid")))
  .register(z.globalRegistry, { description: "The nextCursor of the previous page, unchanged" });

/** A list's page: `limit` (1 to 100, 50 by default) and `cursor`; unknown ones are ignored. */
export const ListQuery = z.object({
  limit: z
    .pipe(
      z.optional(
        z.string().check(
          z.regex(/^\d{1,3}$/, "limit must be an integer from 1 to 100"),
          z.refine(
            (v) => Number(v) >= 1 && Number(v) <= 100,
            "limit must be an integer from 1 to 100",
          ),
        ),
      ),
      z.transform((v) => (v === undefined ? DEFAULT_PAGE_SIZE : Number(v))),
    )
    .register(documentedAs, {
      description: "Items per page",
      type: "integer",
      minimum: 1,
      maximum: 100,
      default: DEFAULT_PAGE_SIZE,
    }),
  cursor: Cursor,
});
