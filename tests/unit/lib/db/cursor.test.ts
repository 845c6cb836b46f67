import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor } from "../../../../lib/db/cursor.ts";

describe("pagination cursors", () => {
  const key = { user_id: "auth0|alice", song_id: "01J0000000000000000000000A" };

  it("round-trips the key for the same list and caller", async () => {
    const cursor = await encodeCursor("songs", "auth0|alice", key);
    expect(await decodeCursor("songs", "auth0|alice", cursor ?? undefined)).toEqual(key);
  });
  it("is null when there is no next page", async () => {
    expect(await encodeCursor("songs", "auth0|alice", undefined)).toBeNull();
  });
  it("refuses another caller's cursor", async () => {
    const cursor = (await encodeCursor("songs", "auth0|alice", key)) as string;
    await expect(decodeCursor("songs", "auth0|mallory", cursor)).rejects.toThrow(
      "cursor is invalid",
    );
  });
  it("refuses a cursor of another list", async () => {
    const cursor = (await encodeCursor("songs", "auth0|alice", key)) as string;
    await expect(decodeCursor("playlists", "auth0|alice", cursor)).rejects.toThrow(
      "cursor is invalid",
    );
  });
  it("refuses an altered key", async () => {
    const cursor = (await encodeCursor("songs", "auth0|alice", key)) as string;
    const [, signature] = cursor.split(".");
    const altered = Buffer.from(JSON.stringify({ ...key, user_id: "auth0|bob" })).toString(
      "base64url",
    );
    await expect(decodeCursor("songs", "auth0|alice", `${altered}.${signature}`)).rejects.toThrow(
      "cursor is invalid",
    );
  });
  it.each(["", "abc", "a.b.c", "!!!.???", "x".repeat(5000)])("refuses junk %#", async (junk) => {
    await expect(decodeCursor("songs", "auth0|alice", junk)).rejects.toThrow("cursor is invalid");
  });
});
