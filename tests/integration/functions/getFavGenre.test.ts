import { describe, expect, it } from "vitest";
import { handler } from "../../../functions/getFavGenre.ts";
import { getUserCounters } from "../../../lib/db/counters/user.ts";
import { getProfile } from "../../../lib/db/profiles.ts";
import { dynamoCallsOf } from "../../helpers/calls.ts";
import { httpEvent, invoke } from "../../helpers/invoke.ts";
import { storeProfile } from "../../helpers/profiles.ts";
import { tokenFor, uniqueUser } from "../../helpers/tokens.ts";

const get = (token: string) => invoke(handler, httpEvent("getFavouriteGenre", { token }));
const put = (token: string, body: unknown) =>
  invoke(handler, httpEvent("setFavouriteGenre", { token, body }));

describe("favourite genre", () => {
  it("is null until set, then the stored genre", async () => {
    const token = await tokenFor(uniqueUser());
    expect((await get(token)).body).toEqual({ favGenre: null });
    expect(await put(token, { genre: " jazz " })).toMatchObject({
      statusCode: 200,
      body: { favGenre: "jazz" },
    });
    expect((await get(token)).body).toEqual({ favGenre: "jazz" });
  });

  it("lives on the profile item without touching metadata or plays", async () => {
    const sub = uniqueUser();
    await storeProfile(sub, { user_metadata: { displayName: "Kept" }, total_plays: 7 });
    await put(await tokenFor(sub), { genre: "blues" });
    const profile = await getProfile(sub);
    expect(profile).toMatchObject({ favGenre: "blues", userMetadata: { displayName: "Kept" } });
    expect((await getUserCounters(sub)).totalPlays).toBe(7);
  });

  it("moves the profile's ETag: the change shows in GET /users/{id}", async () => {
    const sub = uniqueUser();
    await storeProfile(sub, { version: 4 });
    await put(await tokenFor(sub), { genre: "funk" });
    expect((await getProfile(sub))?.version).toBe(5);
  });

  it("is per user", async () => {
    await put(await tokenFor(uniqueUser()), { genre: "metal" });
    expect((await get(await tokenFor(uniqueUser()))).body).toEqual({ favGenre: null });
  });

  it.each([
    ["an empty genre", { genre: "" }, "genre must not be empty"],
    ["65 characters", { genre: "g".repeat(65) }, "genre must be at most 64 characters"],
    ["a number", { genre: 5 }, "genre must be a string"],
    ["an unknown field", { genre: "jazz", favGenre: "x" }, "Unknown field: favGenre"],
  ])("refuses %s with a 400, storing nothing", async (_case, body, message) => {
    const sub = uniqueUser();
    const response = await put(await tokenFor(sub), body);
    expect(response.statusCode).toBe(400);
    expect(response.body.message).toContain(message);
    expect(await getProfile(sub)).toBeUndefined();
  });

  it("reads and writes in one round trip each", async () => {
    const token = await tokenFor(uniqueUser());
    expect(await dynamoCallsOf(() => put(token, { genre: "soul" }))).toEqual(["UpdateItemCommand"]);
    expect(await dynamoCallsOf(() => get(token))).toEqual(["GetItemCommand"]);
  });
});
