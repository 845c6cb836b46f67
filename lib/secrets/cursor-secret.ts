/**
 * The secret that signs pagination cursors (lib/db/cursor.ts): deployed, an SSM SecureString
 * read once per container, the first time a cursor is issued or checked (lib/secrets/parameter.ts).
 */
import { config } from "../config.ts";
import { secretReader } from "./parameter.ts";

export const cursorSecret = secretReader({
  id: "cursor-secret",
  what: "cursor secret",
  cause: "cursor_secret",
  minLength: 32,
  source: () => config().cursorSecret,
});
