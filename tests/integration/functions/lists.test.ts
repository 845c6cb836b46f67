import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { handler as playlists } from "../../../functions/playlists.ts";
import { handler as songs } from "../../../functions/songs.ts";
import { FEATURED_TABLE } from "../../../lib/db/featured.ts";
import { PLAYLISTS_TABLE } from "../../../lib/db/playlists.ts";
import { SONGS_TABLE } from "../../../lib/db/songs.ts";
import type { LambdaHandler } from "../../../lib/http/handler.ts";
import { newId } from "../../../lib/ids.ts";
import { httpEvent, invoke } from "../../helpers/invoke.ts";
import { writeItems } from "../../helpers/tables.ts";
import { tokenFor, uniqueUser } from "../../helpers/tokens.ts";

/**
 * Walking a list through its cursors finds every item exactly once, and the last page says
 * `nextCursor: null`, whatever the items' sizes: DynamoDB stops a Query or Scan at 1 MB, before
 * `limit` items when the items are large. The items are the largest the API has ever accepted
 * (names at their limits in 3-byte characters, 500 song ids of 64 characters: what the schema
 * allowed before song ids had to name songs), written straight into the tables to keep the
 * test fast, and read through the functions' handlers.
 */

/** 3 bytes in UTF-8, one character for the schemas' limits. */
const WIDE = "€";
const SONG_ID_LENGTH = 64;

function largeSong(userId: string) {
  const songId = newId();
  return {
    user_id: userId,
    song_id: songId,
    song_name: WIDE.repeat(200),
    genre: WIDE.repeat(64),
    created_at: new Date().toISOString(),
  };
}

/** A playlist item of `songCount` ids of the schema's longest length. */
function playlistOf(songCount: number, userId?: string) {
  const now = new Date().toISOString();
  return {
    ...(userId ? { user_id: userId } : {}),
    playlist_id: newId(),
    name: WIDE.repeat(100),
    song_ids: Array.from({ length: songCount }, (_, i) => `${i}`.padStart(SONG_ID_LENGTH, "s")),
    created_at: now,
    updated_at: now,
    ...(userId ? {} : { plays: 0 }),
  };
}

interface Walk {
  ids: string[];
  pageSizes: number[];
  lastCursor: unknown;
}

/** Every page of a list, following nextCursor until it is null. */
async function walk(
  handler: LambdaHandler,
  fixture: string,
  token: string,
  key: "songs" | "playlists",
  idOf: (item: Record<string, string>) => string,
  limit?: number,
): Promise<Walk> {
  const ids: string[] = [];
  const pageSizes: number[] = [];
  let cursor: string | undefined;
  let lastCursor: unknown;
  for (let pages = 0; pages < 1000; pages++) {
    const query = { ...(limit ? { limit: String(limit) } : {}), ...(cursor ? { cursor } : {}) };
    const page = await invoke(handler, httpEvent(fixture, { token, query }));
    expect(page.statusCode, JSON.stringify(page.body).slice(0, 300)).toBe(200);
    const items = page.body[key] as Record<string, string>[];
    ids.push(...items.map(idOf));
    pageSizes.push(items.length);
    lastCursor = page.body.nextCursor;
    if (page.body.nextCursor === null) break;
    cursor = page.body.nextCursor;
  }
  return { ids, pageSizes, lastCursor };
}

/** Each expected id exactly once, nothing twice, and a last page that says so. */
function expectComplete(result: Walk, expected: string[], onlyThese = true) {
  expect(result.lastCursor).toBeNull();
  expect(new Set(result.ids).size).toBe(result.ids.length);
  if (onlyThese) {
    expect(result.ids).toEqual(expected);
  } else {
    const found = new Set(result.ids);
    expect(expected.filter((id) => !found.has(id))).toEqual([]);
  }
}

const songId = (song: Record<string, string>) => song.songId as string;
const playlistId = (playlist: Record<string, string>) => playlist.playlistId as string;

describe("lists with the largest items", () => {
  it("walks 130 songs of the largest sizes, each once, at every page size", async () => {
    const sub = uniqueUser();
    const token = await tokenFor(sub);
    const items = Array.from({ length: 130 }, () => largeSong(sub));
    await writeItems(SONGS_TABLE, items);
    const expected = items.map((item) => item.song_id).sort();
    for (const limit of [undefined, 13, 100]) {
      expectComplete(await walk(songs, "listSongs", token, "songs", songId, limit), expected);
    }
  });

  it("walks 45 playlists of the largest sizes, each once, in creation order", async () => {
    const sub = uniqueUser();
    const token = await tokenFor(sub);
    const items = Array.from({ length: 45 }, () => playlistOf(500, sub));
    await writeItems(PLAYLISTS_TABLE, items);
    const expected = items.map((item) => item.playlist_id).sort();
    for (const limit of [undefined, 100, 29]) {
      const result = await walk(playlists, "listPlaylists", token, "playlists", playlistId, limit);
      expectComplete(result, expected);
    }
    // The case this is about: at limit 100, DynamoDB's 1 MB ended the first page early.
    const first = await invoke(
      playlists,
      httpEvent("listPlaylists", { token, query: { limit: "100" } }),
    );
    expect(first.body.playlists.length).toBeLessThan(45);
    expect(first.body.nextCursor).toEqual(expect.any(String));
  });

  it("walks the featured list with 45 of the largest playlists in it, each once, in creation order", async () => {
    const token = await tokenFor(uniqueUser());
    const editor = uniqueUser();
    const items = Array.from({ length: 45 }, () => ({
      ...playlistOf(500),
      shelf: "live",
      created_by: editor,
      updated_by: editor,
    }));
    await writeItems(FEATURED_TABLE, items);
    const expected = items.map((item) => item.playlist_id).sort();
    // Other test files create featured playlists meanwhile: ours must all be there, once.
    for (const limit of [undefined, 100, 7]) {
      const result = await walk(
        playlists,
        "listFeaturedPlaylists",
        token,
        "playlists",
        playlistId,
        limit,
      );
      expectComplete(result, expected, false);
      const ours = new Set(expected);
      expect(result.ids.filter((id) => ours.has(id))).toEqual(expected);
      // Every featured playlist, ours or not, in creation order (ids are time-ordered ULIDs).
      expect(result.ids).toEqual([...result.ids].sort());
    }
  });

  it("walks any mix of small and large playlists at any page size (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        // Mostly of the largest size, so that pages meet DynamoDB's 1 MB before their limit.
        fc.array(
          fc.oneof(
            { arbitrary: fc.constant(500), weight: 4 },
            { arbitrary: fc.constantFrom(0, 1, 250), weight: 1 },
          ),
          { minLength: 1, maxLength: 80, size: "max" },
        ),
        fc.oneof(fc.integer({ min: 1, max: 100 }), fc.constantFrom(50, 100)),
        async (sizes, limit) => {
          const sub = uniqueUser();
          const items = sizes.map((size) => playlistOf(size, sub));
          await writeItems(PLAYLISTS_TABLE, items);
          const result = await walk(
            playlists,
            "listPlaylists",
            await tokenFor(sub),
            "playlists",
            playlistId,
            limit,
          );
          expectComplete(result, items.map((item) => item.playlist_id).sort());
        },
      ),
      // No shrinking: each run writes megabytes; the first counterexample says enough.
      { numRuns: 8, endOnFailure: true },
    );
  }, 120_000);
});
