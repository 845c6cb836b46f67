/** The profile's bodies and queries: display name, genre, metadata patch, Auth0's `fields`. */
import * as z from "zod/mini";
import { Genre, Metadata, text } from "./index.ts";

export const DisplayName = text("displayName", 64);
export const DisplayNameBody = z.strictObject({ displayName: DisplayName });
export const GenreBody = z.strictObject({ genre: Genre });
export const UserPatchBody = z.strictObject({
  user_metadata: z.optional(Metadata),
  app_metadata: z.optional(Metadata),
});

/** Auth0's `fields` and `include_fields`, checked by lib/domain/user.ts (400 invalid_query). */
export const UserFieldsQuery = z.object({
  fields: z.optional(z.string()).register(z.globalRegistry, {
    description:
      "Comma-separated fields to include (or, with include_fields=false, to leave out), e.g. user_id,user_metadata; names the object lacks select nothing; empty: every field",
    maxLength: 1024,
  }),
  include_fields: z.optional(z.string()).register(z.globalRegistry, {
    description: "Whether fields lists the fields to include (true) or to leave out (false)",
    enum: ["true", "false"],
    default: "true",
  }),
});
