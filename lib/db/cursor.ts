import { createHmac, timingSafeEqual } from "node:crypto";
import { cursorSecret } from "../secrets/cursor-secret.ts";
import { InvalidCursor } from "./errors.ts";

/**
 * Opaque pagination cursors: the last key of a page, signed with HMAC-SHA256 over the list it
 * belongs to and the caller, so a forged, altered or someone else's cursor is refused
 * (InvalidCursor, which callers see as 400).
 */
export type PageKey = Record<string, string>;

async function sign(scope: string, owner: string, payload: string): Promise<Buffer> {
  return createHmac("sha256", await cursorSecret())
    .update(`${scope}\n${owner}\n${payload}`)
    .digest();
}

export async function encodeCursor(
  scope: string,
  owner: string,
  key: PageKey | undefined,
): Promise<string | null> {
  if (!key) return null;
  const payload = Buffer.from(JSON.stringify(key)).toString("base64url");
  return `${payload}.${(await sign(scope, owner, payload)).toString("base64url")}`;
}

export async function decodeCursor(
  scope: string,
  owner: string,
  cursor: string | undefined,
): Promise<PageKey | undefined> {
  if (cursor === undefined) return undefined;
  const [payload, signature, extra] = cursor.split(".");
  if (!payload || !signature || extra !== undefined || cursor.length > 2048) {
    throw new InvalidCursor();
  }
  const expected = await sign(scope, owner, payload);
  const given = Buffer.from(signature, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new InvalidCursor();
  }
  const key: unknown = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  if (!key || typeof key !== "object" || Array.isArray(key)) {
    throw new InvalidCursor();
  }
  return key as PageKey;
}
