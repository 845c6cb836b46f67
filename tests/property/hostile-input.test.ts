import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { handler as displayName } from "../../functions/displayName.ts";
import { handler as genres } from "../../functions/getFavGenre.ts";
import { handler as playlists } from "../../functions/playlists.ts";
import { handler as postLogin } from "../../functions/postLogin.ts";
import { handler as songs } from "../../functions/songs.ts";
import { handler as users } from "../../functions/users.ts";
import { getProfile } from "../../lib/db/profiles.ts";
import { MAX_METADATA_BYTES, RESERVED_APP_METADATA_KEYS } from "../../lib/domain/metadata.ts";
import type { LambdaHandler } from "../../lib/http/handler.ts";
import { FORBIDDEN_KEYS } from "../../lib/json.ts";
import { httpEvent, invoke } from "../helpers/invoke.ts";
import { tokenFor, uniqueUser } from "../helpers/tokens.ts";

/**
 * Generated junk against every route and every metadata rule. The invariants: never a 5xx, a
 * refusal writes nothing, and whatever is stored satisfies the rules and limits.
 */
const RUNS = { numRuns: 120 };

const nastyKey = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom(
    "a.b",
    "$set",
    "x$",
    "__proto__",
    "constructor",
    "prototype",
    "toString",
    "hasOwnProperty",
    "",
    "displayName",
    "roles",
    "plan",
  ),
  fc.constantFrom(...RESERVED_APP_METADATA_KEYS),
);
const nastyValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.constant(null),
    fc.boolean(),
    fc.double(),
    fc.constantFrom(1e200, -1e-200, 1e125, Number.MAX_SAFE_INTEGER),
    fc.string({ maxLength: 40 }),
    fc.constantFrom("x".repeat(40_000), "\u0000", "🎵".repeat(20)),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(nastyKey, tie("value"), { maxKeys: 4 }),
  ),
})).value;
const nastyObject = fc.dictionary(nastyKey, nastyValue, { maxKeys: 6 });
const anyBody = fc.oneof(
  fc.jsonValue().map((v) => JSON.stringify(v)),
  nastyObject.map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  fc.constantFrom("", "{", "[]", "null", '{"__proto__":{"admin":true}}', "x".repeat(70_000)),
);

function keysAreValid(value: unknown, top: "user_metadata" | "app_metadata" | null): boolean {
  if (Array.isArray(value)) return value.every((v) => keysAreValid(v, null));
  if (value && typeof value === "object") {
    return Object.entries(value).every(
      ([key, v]) =>
        !key.includes(".") &&
        !key.includes("$") &&
        !FORBIDDEN_KEYS.has(key) &&
        !(top === "app_metadata" && RESERVED_APP_METADATA_KEYS.has(key)) &&
        keysAreValid(v, null),
    );
  }
  return true;
}

const WRITES: [string, LambdaHandler, string][] = [
  ["PUT /displayName", displayName, "setDisplayName"],
  ["PUT /genres/fav", genres, "setFavouriteGenre"],
  ["POST /songs", songs, "createSong"],
  ["POST /playlists", playlists, "createPlaylist"],
  ["POST /playlists/featured", playlists, "createFeaturedPlaylist"],
];

describe("hostile input never causes a 5xx, and a refusal writes nothing", () => {
  it.each(WRITES)("%s with generated bodies", async (_route, handler, fixture) => {
    const sub = uniqueUser();
    const token = await tokenFor(sub);
    await fc.assert(
      fc.asyncProperty(anyBody, async (rawBody) => {
        const response = await invoke(
          handler,
          httpEvent(fixture, { token, rawBody, headers: { "idempotency-key": null } }),
        );
        expect(response.statusCode).toBeLessThan(500);
        if (response.statusCode >= 400) {
          expect(response.body).toMatchObject({
            statusCode: response.statusCode,
            error: expect.any(String),
            message: expect.any(String),
          });
        }
      }),
      RUNS,
    );
    // Only well-formed writes landed: every stored song and playlist is within the limits.
    const stored = await invoke(songs, httpEvent("listSongs", { token, query: { limit: "100" } }));
    for (const song of stored.body.songs) {
      expect(song.songName.length).toBeGreaterThan(0);
      expect(song.songName.length).toBeLessThanOrEqual(200);
      expect(song.genre.length).toBeLessThanOrEqual(64);
    }
  });

  it("PATCH /users/{userId}: stored metadata always satisfies Auth0's rules and the 32 kB limit", async () => {
    const sub = uniqueUser();
    const token = await tokenFor(sub, {
      permissions: ["update:users", "update:users_app_metadata"],
    });
    const patchBody = fc.oneof(
      fc.record({ user_metadata: nastyObject }, { requiredKeys: [] }),
      fc.record({ app_metadata: nastyObject }, { requiredKeys: [] }),
      fc.record(
        { user_metadata: nastyObject, app_metadata: nastyObject, extra: fc.string() },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          patchBody.map((b) => JSON.stringify(b)),
          anyBody,
        ),
        async (rawBody) => {
          const before = await getProfile(sub);
          const response = await invoke(
            users,
            httpEvent("updateUser", {
              token,
              rawBody,
              rawPath: `/users/${encodeURIComponent(sub)}`,
              pathParameters: { userId: sub },
            }),
          );
          expect(response.statusCode).toBeLessThan(500);
          const after = await getProfile(sub);
          if (response.statusCode !== 200) expect(after).toEqual(before);
          if (after) {
            expect(keysAreValid(after.userMetadata, "user_metadata")).toBe(true);
            expect(keysAreValid(after.appMetadata, "app_metadata")).toBe(true);
            expect(Buffer.byteLength(JSON.stringify(after.userMetadata))).toBeLessThanOrEqual(
              MAX_METADATA_BYTES,
            );
            expect(Buffer.byteLength(JSON.stringify(after.appMetadata))).toBeLessThanOrEqual(
              MAX_METADATA_BYTES,
            );
          }
        },
      ),
      RUNS,
    );
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it("query strings of list routes: never a 5xx, never someone else's data", async () => {
    const token = await tokenFor(uniqueUser());
    const query = fc.record(
      {
        limit: fc.oneof(fc.string({ maxLength: 6 }), fc.integer().map(String)),
        cursor: fc.string({ maxLength: 300 }),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(
        query,
        fc.constantFrom("listSongs", "listPlaylists", "listFeaturedPlaylists"),
        async (q, fixture) => {
          const handler = fixture === "listSongs" ? songs : playlists;
          const response = await invoke(
            handler,
            httpEvent(fixture, { token, query: q as Record<string, string> }),
          );
          expect([200, 400]).toContain(response.statusCode);
          if (q.cursor !== undefined && response.statusCode === 200) expect(q.cursor).toBe("");
        },
      ),
      RUNS,
    );
  });

  it("path ids and user ids: never a 5xx", async () => {
    const sub = uniqueUser();
    const token = await tokenFor(sub);
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 80 }), async (raw) => {
        const song = await invoke(
          songs,
          httpEvent("getSong", { token, pathParameters: { songId: raw } }),
        );
        expect(song.statusCode).toBe(404);
        const user = await invoke(
          users,
          httpEvent("getUser", {
            token,
            rawPath: `/users/${raw.replaceAll("/", "%2F")}`,
            pathParameters: { userId: raw },
          }),
        );
        expect([200, 400, 403]).toContain(user.statusCode);
      }),
      RUNS,
    );
  });

  it("the post-login hook, directly invoked with junk events: a clear error, never a crash that writes", async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (event) => {
        try {
          await postLogin(event, {} as never);
        } catch (error) {
          expect((error as Error).name).toBe("BadRequestError");
        }
      }),
      RUNS,
    );
  });
});
