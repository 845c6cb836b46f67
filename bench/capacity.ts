import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { newId } from "../lib/ids.ts";
import { type EventChanges, httpEvent } from "../scripts/local/events.ts";
import type { Handler } from "./common.ts";
import { type BenchStack, context, noKey } from "./stack.ts";

/**
 * Capacity units per request for the smallest and the largest allowed items: a profile with
 * 2 × 32 kB of metadata, a playlist of 500 ids of 64 characters (as stored before song ids had
 * to name songs). A play's write must not grow.
 */
export async function measureCapacity(stack: BenchStack) {
  const largeSub = "google-oauth2|bench-large";
  const largeToken = await stack.tokenFor(largeSub);
  const operatorToken = await stack.tokenFor("auth0|bench-operator", {
    permissions: ["update:users_app_metadata"],
  });
  const largePath = `/users/${encodeURIComponent(largeSub)}`;
  // Just under the 32 kB limits of each metadata object, and a playlist of 500 ids of 64 chars.
  const filler = (bytes: number) => "x".repeat(bytes - '{"filler":""}'.length - 40);
  await stack.through("users", "updateUser", {
    token: largeToken,
    rawPath: largePath,
    body: { user_metadata: { filler: filler(32 * 1024), displayName: "Large" } },
  });
  await stack.through("users", "updateUser", {
    token: operatorToken,
    rawPath: largePath,
    body: { app_metadata: { filler: filler(32 * 1024) } },
  });
  // Written straight into the tables: since songIds must name the owner's songs (26-character
  // ids), no request can make one this large, but playlists stored before then may be.
  const largePlaylistId = newId();
  const now = new Date().toISOString();
  await stack.doc.send(
    new PutCommand({
      TableName: stack.tables.PLAYLISTS_TABLE,
      Item: {
        user_id: largeSub,
        playlist_id: largePlaylistId,
        name: "L".repeat(100),
        song_ids: Array.from({ length: 500 }, (_, i) => `${i}`.padStart(64, "s")),
        created_at: now,
        updated_at: now,
      },
    }),
  );
  await stack.doc.send(
    new PutCommand({
      TableName: stack.tables.COUNTERS_TABLE,
      Item: { user_id: largeSub, counter_id: largePlaylistId, plays: 0 },
    }),
  );
  const { token, hookToken, playlistId, sub } = stack.user;
  const sized = {
    smallest: { token, playlistId, sub },
    largest: { token: largeToken, playlistId: largePlaylistId, sub: largeSub },
  };
  const capacityRoutes: [string, string, string, (s: typeof sized.smallest) => EventChanges][] = [
    [
      "POST /playlists/{playlistId}/plays",
      "playlists",
      "playPlaylist",
      (u) => ({
        token: u.token,
        pathParameters: { playlistId: u.playlistId },
        headers: noKey,
      }),
    ],
    [
      "GET /playlists/{playlistId}",
      "playlists",
      "getPlaylist",
      (u) => ({
        token: u.token,
        pathParameters: { playlistId: u.playlistId },
      }),
    ],
    ["GET /playlists/getPlays", "getPlays", "getTotalPlays", (u) => ({ token: u.token })],
    [
      "PUT /genres/fav",
      "getFavGenre",
      "setFavouriteGenre",
      (u) => ({
        token: u.token,
        body: { genre: "jazz" },
      }),
    ],
    [
      "POST /hooks/post-login",
      "postLogin",
      "runPostLogin",
      (u) => ({
        token: hookToken,
        body: { user: { user_id: u.sub } },
      }),
    ],
  ];
  const capacity = [];
  for (const [route, fn, fixture, changes] of capacityRoutes) {
    const units: Record<string, { read: number; write: number }> = {};
    for (const [size, user] of Object.entries(sized)) {
      stack.proxy.reset();
      await (stack.counted[fn] as Handler)(httpEvent(fixture, changes(user)), context);
      units[size] = stack.proxy.capacityUnits();
    }
    capacity.push({
      route,
      smallestWriteCU: units.smallest?.write,
      largestWriteCU: units.largest?.write,
      smallestReadCU: units.smallest?.read,
      largestReadCU: units.largest?.read,
    });
  }
  return capacity;
}
