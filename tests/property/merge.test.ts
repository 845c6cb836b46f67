/**
 * The merge rules of sync (lib/domain/kinds.ts) as properties: merging is idempotent (the same
 * push again changes nothing), a change made on both sides is kept once, and nothing either side
 * added or changed alone is lost.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KINDS, merge, mergeList, same } from "../../lib/domain/kinds.ts";

const RUNS = { numRuns: 500 };

const ids = fc.uniqueArray(fc.constantFrom<string>("a", "b", "c", "d", "e", "f", "g", "h"), {
  maxLength: 8,
});
const name = fc.constantFrom("Road trip", "Gym", "Chill");
const playlist = fc.record({ name, songIds: ids });
const value = fc.oneof(fc.constantFrom(1, "x", true), fc.record({ n: fc.nat(3) }));
const metadata = fc.dictionary(
  fc.constantFrom("theme", "lang", "avatar", "volume", "toString"),
  value,
  {
    maxKeys: 4,
  },
);
const profile = fc.record({
  user_metadata: metadata,
  favGenre: fc.constantFrom("jazz", "pop", null),
});

describe("merge rules", () => {
  it("lists: additions of either side kept once, removals of either side gone, no duplicates", () => {
    fc.assert(
      fc.property(ids, ids, ids, (ancestor, server, pushed) => {
        const merged = mergeList(ancestor, server, pushed);
        expect(new Set(merged).size).toBe(merged.length);
        for (const id of merged) expect(server.includes(id) || pushed.includes(id)).toBe(true);
        for (const id of server.filter((i) => !ancestor.includes(i))) expect(merged).toContain(id);
        for (const id of pushed.filter((i) => !ancestor.includes(i))) expect(merged).toContain(id);
        for (const id of ancestor) {
          if (!server.includes(id) || !pushed.includes(id)) expect(merged).not.toContain(id);
        }
      }),
      RUNS,
    );
  });

  for (const [label, kind, state] of [
    ["playlists", KINDS.playlists, playlist],
    ["profile", KINDS.profile, profile],
  ] as const) {
    it(`${label}: merging again what was merged changes nothing (an idempotent push)`, () => {
      fc.assert(
        fc.property(state, state, state, (ancestor, server, pushed) => {
          const first = merge(kind, ancestor, server, pushed);
          const again = merge(kind, ancestor, first.merged, pushed);
          expect(again.merged).toEqual(first.merged);
          expect(again.conflicts).toEqual([]);
        }),
        RUNS,
      );
    });

    it(`${label}: a change made on both sides is kept once, without a conflict`, () => {
      fc.assert(
        fc.property(state, state, (ancestor, changed) => {
          const { merged, conflicts } = merge(kind, ancestor, changed, changed);
          expect(same(merged, changed)).toBe(true);
          expect(conflicts).toEqual([]);
        }),
        RUNS,
      );
    });

    it(`${label}: what only one side changed is kept`, () => {
      fc.assert(
        fc.property(state, state, (ancestor, changed) => {
          expect(same(merge(kind, ancestor, ancestor, changed).merged, changed)).toBe(true);
          expect(same(merge(kind, ancestor, changed, ancestor).merged, changed)).toBe(true);
        }),
        RUNS,
      );
    });
  }

  it("both sides changing a field to different values keeps the pushed one and reports the other", () => {
    fc.assert(
      fc.property(name, name, name, (ancestor, server, pushed) => {
        fc.pre(ancestor !== server && ancestor !== pushed && server !== pushed);
        const { merged, conflicts } = merge(
          KINDS.songs,
          { songName: ancestor, genre: "pop" },
          { songName: server, genre: "pop" },
          { songName: pushed, genre: "pop" },
        );
        expect(merged.songName).toBe(pushed);
        expect(conflicts).toEqual([{ field: "songName", kept: pushed, replaced: server }]);
      }),
      RUNS,
    );
  });
});
