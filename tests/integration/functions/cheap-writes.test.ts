/**
 * Cheap by design (CONTRACT: Per-caller limits): what a change makes the tables spend follows
 * what it changes. A playlist's new list is checked only for the songs it adds; a play's
 * Idempotency-Key record holds only what its replay needs. Units as DynamoDB reports them.
 */
import { describe, expect, it } from "vitest";
import { handler as playlists } from "../../../functions/playlists.ts";
import { IDEMPOTENCY_TABLE } from "../../../lib/db/idempotency.ts";
import { SONGS_TABLE } from "../../../lib/db/songs.ts";
import { unitsOf } from "../../helpers/calls.ts";
import { httpEvent, invoke } from "../../helpers/invoke.ts";
import { storeSongs } from "../../helpers/tables.ts";
import { tokenFor, uniqueUser } from "../../helpers/tokens.ts";

const unitsOn = (table: string, work: () => Promise<unknown>) => unitsOf(`"${table}"`, work);

describe("cheap by design", () => {
  it("read only the songs a playlist change adds: a list of 500 resent with one new id reads one song", async () => {
    const sub = uniqueUser();
    const token = await tokenFor(sub);
    const [extra, ...songIds] = await storeSongs(sub, 501);
    const created = await invoke(
      playlists,
      httpEvent("createPlaylist", { token, body: { name: "Full", songIds } }),
    );
    expect(created.statusCode).toBe(201);
    const changed = [...songIds.slice(1), extra as string];
    const units = await unitsOn(SONGS_TABLE, async () => {
      const answer = await invoke(
        playlists,
        httpEvent("updatePlaylist", {
          token,
          pathParameters: { playlistId: created.body.playlistId },
          body: { songIds: changed },
        }),
      );
      expect(answer.statusCode).toBe(200);
      expect(answer.body.songIds).toEqual(changed);
    });
    expect(units.read).toBeLessThanOrEqual(2);
  });

  it("keep a play's Idempotency-Key record small: its replay reads the playlist's songs again", async () => {
    const sub = uniqueUser();
    const token = await tokenFor(sub);
    const songIds = await storeSongs(sub, 500);
    const created = await invoke(
      playlists,
      httpEvent("createPlaylist", { token, body: { name: "Big", songIds } }),
    );
    const play = () =>
      invoke(
        playlists,
        httpEvent("playPlaylist", {
          token,
          pathParameters: { playlistId: created.body.playlistId },
          headers: { "idempotency-key": `play-${sub}` },
        }),
      );
    let first: Awaited<ReturnType<typeof play>> | undefined;
    const units = await unitsOn(IDEMPOTENCY_TABLE, async () => {
      first = await play();
    });
    expect(first?.statusCode).toBe(200);
    // The record (written in the play's transaction, twice the units) and its answer: a few
    // units, not the 13 kB of 500 ids (16 units with the whole playlist in it).
    expect(units.write).toBeLessThanOrEqual(6);
    const again = await play();
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(again.body).toEqual(first?.body);
  });
});
