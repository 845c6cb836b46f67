import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor } from "../../../../lib/db/cursor.ts";

describe("pagination cursors", () => {
  const key = { user_id: "auth0|alice", song_id: "01J0000000000000000000000A" };

  it("round-trips the key for the same list and caller", () => {
    const cursor = encodeCursor("songs", "auth0|alice", key);
    expect(decodeCursor("songs", "auth0|alice", cursor ?? undefined)).toEqual(key);
  });
  it("is null when there is no next page", () => {
    expect(encodeCursor("songs", "auth0|alice", undefined)).toBeNull();
  });
  it("refuses another caller's cursor", () => {
    const cursor = encodeCursor("songs", "auth0|alice", key) as string;
    expect(() => decodeCursor("songs", "auth0|mallory", cursor)).toThrow("cursor is invalid");
  });
  it("refuses a cursor of another list", () => {
    const cursor = encodeCursor("songs", "auth0|alice", key) as string;
    expect(() => decodeCursor("playlists", "auth0|alice", cursor)).toThrow("cursor is invalid");
  });
  it("refuses an altered key", () => {
    const cursor = encodeCursor("songs", "auth0|alice", key) as string;
    const [, signature] = cursor.split(".");
    const altered = Buffer.from(JSON.stringify({ ...key, user_id: "auth0|bob" })).toString(
      "base64url",
    );
    expect(() => decodeCursor("songs", "auth0|alice", `${altered}.${signature}`)).toThrow(
      "cursor is invalid",
    );
  });
  it.each(["", "abc", "a.b.c", "!!!.???", "x".repeat(5000)])("refuses junk %#", (junk) => {
    expect(() => decodeCursor("songs", "auth0|alice", junk)).toThrow("cursor is invalid");
  });
});
