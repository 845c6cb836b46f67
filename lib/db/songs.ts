import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { config } from "../config.ts";
import { db, deleteIfExists, existingItemOf } from "./client.ts";
import { type Page, userPartitionPage } from "./pages.ts";

/** The songs table: partition `user_id`, sort `song_id` (a ULID, so lists run in creation order). */
export const SONGS_TABLE = config().tables.songs;

export interface Song {
  songId: string;
  songName: string;
  genre: string;
  createdAt: string;
}

interface SongItem {
  user_id: string;
  song_id: string;
  song_name: string;
  genre: string;
  created_at: string;
}

const key = (userId: string, songId: string) => ({ user_id: userId, song_id: songId });

function fromItem(item: SongItem): Song {
  return {
    songId: item.song_id,
    songName: item.song_name,
    genre: item.genre,
    createdAt: item.created_at,
  };
}

/**
 * Creates the song unless an item with its id exists; then answers the stored one (a retried
 * Idempotency-Key) in the same round trip, thanks to ReturnValuesOnConditionCheckFailure.
 */
export async function putSong(
  userId: string,
  songId: string,
  input: { songName: string; genre: string },
): Promise<{ song: Song; created: boolean }> {
  const item: SongItem = {
    user_id: userId,
    song_id: songId,
    song_name: input.songName,
    genre: input.genre,
    created_at: new Date().toISOString(),
  };
  try {
    await db.send(
      new PutCommand({
        TableName: SONGS_TABLE,
        Item: item,
        ConditionExpression: "attribute_not_exists(song_id)",
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      }),
    );
    return { song: fromItem(item), created: true };
  } catch (error) {
    const existing = existingItemOf<SongItem>(error);
    if (existing) return { song: fromItem(existing), created: false };
    throw error;
  }
}

export async function getSong(userId: string, songId: string): Promise<Song | undefined> {
  const { Item } = await db.send(
    new GetCommand({ TableName: SONGS_TABLE, Key: key(userId, songId) }),
  );
  return Item ? fromItem(Item as SongItem) : undefined;
}

/** Deletes the caller's song; false when there was none (another user's id included). */
export function deleteSong(userId: string, songId: string): Promise<boolean> {
  return deleteIfExists(SONGS_TABLE, key(userId, songId));
}

export function listSongs(
  userId: string,
  limit: number,
  cursor: string | undefined,
): Promise<Page<Song>> {
  const songs = { table: SONGS_TABLE, name: "songs", sortKey: "song_id", fromItem };
  return userPartitionPage(songs, userId, limit, cursor);
}
