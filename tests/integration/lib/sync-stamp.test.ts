/**
 * Items stored before sync existed (no change stamp) reach devices once `npm run sync:stamp`
 * (stampUnversioned) has run: before it, a pull from the start never delivers them.
 */
import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { expect, it } from "vitest";
import { handler as playlistsHandler } from "../../../functions/playlists.ts";
import { handler as songsHandler } from "../../../functions/songs.ts";
import { handler as syncHandler } from "../../../functions/sync.ts";
import { handler as usersHandler } from "../../../functions/users.ts";
import { config } from "../../../lib/config.ts";
import { stampUnversioned } from "../../../lib/db/changes.ts";
import { db } from "../../../lib/db/client.ts";
import { httpEvent, invoke } from "../../helpers/invoke.ts";
import { tokenFor, uniqueUser } from "../../helpers/tokens.ts";

const { tables } = config();

/** What a device pulling from the start receives: "collection/id" of every live document. */
async function pulledFromStart(token: string): Promise<string[]> {
  const seen: string[] = [];
  let checkpoint: string | undefined;
  for (let pulls = 0; pulls < 50; pulls++) {
    const answer = await invoke(
      syncHandler,
      httpEvent("pullChanges", { token, query: checkpoint ? { checkpoint } : {} }),
    );
    expect(answer.statusCode).toBe(200);
    checkpoint = answer.body.checkpoint;
    if (answer.body.documents.length === 0) return seen.sort();
    for (const doc of answer.body.documents) seen.push(`${doc.collection}/${doc.id}`);
  }
  throw new Error("pulling never ended");
}

const unstamp = (TableName: string, Key: Record<string, string>) =>
  db.send(new UpdateCommand({ TableName, Key, UpdateExpression: "REMOVE sync_version" }));

it("stamps what was stored before sync, once, so that a pull from the start delivers it", async () => {
  const sub = uniqueUser();
  const token = await tokenFor(sub);
  const noKey = { "idempotency-key": null };
  const song = await invoke(
    songsHandler,
    httpEvent("createSong", { token, body: { songName: "Old", genre: "pop" }, headers: noKey }),
  );
  const playlist = await invoke(
    playlistsHandler,
    httpEvent("createPlaylist", {
      token,
      body: { name: "Old list", songIds: [song.body.songId] },
      headers: noKey,
    }),
  );
  const profile = await invoke(
    usersHandler,
    httpEvent("updateUser", {
      token,
      body: { user_metadata: { theme: "dark" } },
      rawPath: `/users/${encodeURIComponent(sub)}`,
      pathParameters: { userId: sub },
    }),
  );
  expect([song.statusCode, playlist.statusCode, profile.statusCode]).toEqual([201, 201, 200]);
  const everything = [
    `playlists/${playlist.body.playlistId}`,
    `profile/${sub}`,
    `songs/${song.body.songId}`,
  ];
  expect(await pulledFromStart(token)).toEqual(everything);

  // As stored by a release before sync: no stamp on any of them.
  await unstamp(tables.songs, { user_id: sub, song_id: song.body.songId });
  await unstamp(tables.playlists, { user_id: sub, playlist_id: playlist.body.playlistId });
  await unstamp(tables.profiles, { user_id: sub });
  expect(await pulledFromStart(token)).toEqual([]);

  expect(await stampUnversioned(() => {})).toBeGreaterThanOrEqual(3);
  expect(await pulledFromStart(token)).toEqual(everything);
  // Stamped once: running it again stamps nothing and changes nothing a device sees.
  expect(await stampUnversioned(() => {})).toBe(0);
  expect(await pulledFromStart(token)).toEqual(everything);
});
