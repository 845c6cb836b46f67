/** The post-login hook's body: Auth0's event, the parts the hook reads. */
import * as z from "zod/mini";

export const PostLoginEvent = z.looseObject({
  user: z.looseObject({
    user_id: z
      .string("event.user.user_id must be a string")
      .check(
        z.minLength(1, "event.user.user_id must not be empty"),
        z.maxLength(256, "event.user.user_id must be at most 256 characters"),
      ),
    email: z.optional(z.nullable(z.string())),
    name: z.optional(z.nullable(z.string())),
    // Moved in for a user the store has never seen (lib/domain/migration.ts checks each key).
    user_metadata: z.optional(z.nullable(z.record(z.string(), z.unknown()))),
    app_metadata: z.optional(z.nullable(z.record(z.string(), z.unknown()))),
  }),
});
