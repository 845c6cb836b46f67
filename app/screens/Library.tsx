/**
 * Library: the person's songs and playlists on the device, written there first and pushed by the
 * sync; a play is sent at once when online, else kept and sent later.
 */
import { useState } from "preact/hooks";
import { ApiError, idempotencyKey, ok } from "../api.ts";
import type { Session } from "../session.ts";
import { change, create, type Data, type Item, keyOf, queuePlay } from "../store.ts";
import { Card, DeleteButton, Row, submitted, TextField } from "../widgets/controls.tsx";
import { useLibrary, useSyncState } from "../widgets/hooks.ts";
import { Alert, Loading, Note, NotYet } from "../widgets/status.tsx";
import { count, text } from "../widgets/text.ts";

/** Rename a playlist, and add one of the person's songs to it: local first, pushed later. */
function PlaylistEditor(props: { session: Session; playlist: Item; songs: Item[] }) {
  const { session, playlist, songs } = props;
  const name = text(playlist.data, "name");
  const songIds = (playlist.data?.songIds as string[] | undefined) ?? [];
  const [newName, setNewName] = useState(name);
  const addable = songs.filter((song) => !songIds.includes(song.id));
  const [songId, setSongId] = useState("");
  const edit = (update: (data: Data) => Data) => async () => {
    await change(session.db, "playlists", playlist.id, update);
    void session.sync.request();
  };
  const chosen = addable.some((song) => song.id === songId) ? songId : addable[0]?.id;
  return (
    <div class="edit">
      <form class="inline" onSubmit={submitted(edit((data) => ({ ...data, name: newName })))}>
        <input
          aria-label={`New name of ${name}`}
          value={newName}
          onInput={(e) => setNewName(e.currentTarget.value)}
        />
        <button type="submit" aria-label={`Rename ${name}`}>
          Rename
        </button>
      </form>
      {chosen && (
        <form
          class="inline"
          onSubmit={submitted(
            edit((data) => ({ ...data, songIds: [...((data.songIds as string[]) ?? []), chosen] })),
          )}
        >
          <select
            aria-label={`Song to add to ${name}`}
            value={chosen}
            onChange={(e) => setSongId(e.currentTarget.value)}
          >
            {addable.map((song) => (
              <option key={song.id} value={song.id}>
                {text(song.data, "songName")}
              </option>
            ))}
          </select>
          <button type="submit" aria-label={`Add to ${name}`}>
            Add
          </button>
        </form>
      )}
    </div>
  );
}

/**
 * Online, a play is sent at once; offline, or for a playlist not yet on the server, it is kept
 * with its time (`keep`) and sent later. Answers why the API refused it (a play too soon says
 * when to try again).
 */
async function sendPlay(
  session: Session,
  playlist: Item,
  keep: () => Promise<unknown>,
): Promise<string | undefined> {
  const { db } = session;
  // A playlist made here goes to the API first, so that the play can be counted now.
  if (navigator.onLine && !playlist.base) await session.sync.request();
  const current = await db.items.get(playlist.key);
  if (!navigator.onLine || !current?.base) {
    await keep();
    return undefined;
  }
  try {
    const api = await session.api();
    const played = ok(
      await api.POST("/playlists/{playlistId}/plays", {
        params: { path: { playlistId: playlist.id }, header: idempotencyKey() },
      }),
    );
    await db.transaction("rw", db.items, db.meta, async () => {
      const key = keyOf("playlists", playlist.id);
      const current = await db.items.get(key);
      if (current?.data)
        await db.items.update(key, { data: { ...current.data, plays: played.plays } });
      const total = await db.meta.get("totalPlays");
      if (typeof total?.value === "number")
        await db.meta.put({ name: "totalPlays", value: total.value + 1 });
    });
    return undefined;
  } catch (error) {
    if (!(error instanceof ApiError)) {
      await keep(); // no answer: kept for later
      return undefined;
    }
    return error.status === 429 && error.retryAfterSeconds
      ? `Try again in ${error.retryAfterSeconds} s.`
      : error.message;
  }
}

/** What the library's cards share: its songs, whether they are known yet, and how to write. */
interface CardProps {
  session: Session;
  songs: Item[] | undefined;
  /** Before the first pull nothing is known: "Loading…", not "No songs yet". */
  known: boolean;
  /** Runs a write to the device, then asks the sync to push it. */
  written: (work: () => Promise<unknown>) => Promise<void>;
  remove: (item: Item) => () => Promise<void>;
}

function SongsCard({ session, songs, known, written, remove }: CardProps) {
  const [songName, setSongName] = useState("");
  const [songGenre, setSongGenre] = useState("");
  const addSong = () =>
    written(async () => {
      await create(session.db, "songs", { songName, genre: songGenre });
      setSongName("");
    });
  return (
    <Card title="Songs">
      {!known && <NotYet session={session} what="Loading your songs…" />}
      {known && songs?.length === 0 && <p class="muted">No songs yet: add one below.</p>}
      <ul class="items">
        {songs?.map((song) => {
          const title = text(song.data, "songName");
          return (
            <Row key={song.key} title={title} detail={text(song.data, "genre")}>
              <DeleteButton label={`Delete song ${title}`} onDelete={remove(song)} />
              <Note db={session.db} item={song} name={title} />
            </Row>
          );
        })}
      </ul>
      <form onSubmit={submitted(addSong)}>
        <TextField id="songName" label="Song name" value={songName} onChange={setSongName} />
        <TextField id="songGenre" label="Song genre" value={songGenre} onChange={setSongGenre} />
        <button type="submit">Add song</button>
      </form>
    </Card>
  );
}

/** A new playlist's name and the songs chosen for it. */
function NewPlaylistForm({ session, songs, written }: CardProps) {
  const [playlistName, setPlaylistName] = useState("");
  const [chosen, setChosen] = useState<string[]>([]);
  const addPlaylist = () =>
    written(async () => {
      await create(session.db, "playlists", { name: playlistName, songIds: chosen, plays: 0 });
      setPlaylistName("");
      setChosen([]);
    });
  return (
    <form onSubmit={submitted(addPlaylist)}>
      <TextField
        id="playlistName"
        label="New playlist name"
        value={playlistName}
        onChange={setPlaylistName}
      />
      {songs !== undefined && songs.length > 0 && (
        <fieldset>
          <legend>Songs in it</legend>
          {songs.map((song) => (
            <label class="check" key={song.key}>
              <input
                type="checkbox"
                checked={chosen.includes(song.id)}
                onChange={(e) =>
                  setChosen((ids) =>
                    e.currentTarget.checked
                      ? [...ids, song.id]
                      : ids.filter((id) => id !== song.id),
                  )
                }
              />
              {text(song.data, "songName")}
            </label>
          ))}
        </fieldset>
      )}
      <button type="submit">Create playlist</button>
    </form>
  );
}

function PlaylistsCard(
  props: CardProps & {
    playlists: Item[] | undefined;
    /** Plays kept on the device, not yet sent, of `playlist`. */
    queued: (playlist: Item) => number;
    play: (playlist: Item) => Promise<void>;
  },
) {
  const { session, songs, known, remove, playlists, queued, play } = props;
  const { offline } = useSyncState(session);
  const songName = (id: string) => text(songs?.find((s) => s.id === id)?.data, "songName");
  return (
    <Card title="Playlists">
      {!known && !offline && <Loading what="Loading your playlists…" />}
      {known && playlists?.length === 0 && <p class="muted">No playlists yet: create one below.</p>}
      <ul class="items">
        {playlists?.map((playlist) => {
          const name = text(playlist.data, "name");
          const ids = (playlist.data?.songIds as string[] | undefined) ?? [];
          const plays = Number(playlist.data?.plays ?? 0) + queued(playlist);
          return (
            <Row
              key={playlist.key}
              title={name}
              detail={`${count(ids.length, "song")}, ${count(plays, "play")}`}
            >
              <button type="button" aria-label={`Play ${name}`} onClick={() => play(playlist)}>
                Play
              </button>
              <DeleteButton label={`Delete playlist ${name}`} onDelete={remove(playlist)} />
              {ids.length > 0 && (
                <p class="songs-in" data-testid={`songs of ${name}`}>
                  {ids.map(songName).join(" · ")}
                </p>
              )}
              <Note db={session.db} item={playlist} name={name} />
              {songs && <PlaylistEditor session={session} playlist={playlist} songs={songs} />}
            </Row>
          );
        })}
      </ul>
      <NewPlaylistForm {...props} />
    </Card>
  );
}

export function Library({ session }: { session: Session }) {
  const { db } = session;
  const library = useLibrary(db);
  const [message, setMessage] = useState<string>();
  const songs = library?.songs;
  const written = async (work: () => Promise<unknown>) => {
    setMessage(undefined);
    await work();
    void session.sync.request();
  };
  const cards: CardProps = {
    session,
    songs,
    known: library?.pulled || (songs?.length ?? 0) > 0,
    written,
    remove: (item) => () => written(() => change(db, item.collection, item.id, () => null)),
  };
  const play = async (playlist: Item) => {
    setMessage(undefined);
    const playedAt = new Date();
    const refused = await sendPlay(session, playlist, () =>
      written(() => queuePlay(db, playlist.id, playedAt)),
    );
    if (refused !== undefined) setMessage(refused);
  };
  const queued = (playlist: Item) =>
    library?.queuedPlays.filter((p) => p.playlistId === playlist.id).length ?? 0;
  return (
    <>
      <Alert message={message} />
      <p>
        Total plays: <strong data-testid="total-plays">{library?.totalPlays ?? "…"}</strong>
      </p>
      <SongsCard {...cards} />
      <PlaylistsCard {...cards} playlists={library?.playlists} queued={queued} play={play} />
    </>
  );
}
