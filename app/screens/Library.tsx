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

export function Library({ session }: { session: Session }) {
  const { db } = session;
  const library = useLibrary(db);
  const { offline } = useSyncState(session);
  const [songName, setSongName] = useState("");
  const [songGenre, setSongGenre] = useState("");
  const [playlistName, setPlaylistName] = useState("");
  const [chosen, setChosen] = useState<string[]>([]);
  const [message, setMessage] = useState<string>();
  const songs = library?.songs;
  const playlists = library?.playlists;
  // Before the first pull nothing is known: "Loading…", not "No songs yet".
  const known = library?.pulled || (songs?.length ?? 0) > 0;
  const written = async (work: () => Promise<unknown>) => {
    setMessage(undefined);
    await work();
    void session.sync.request();
  };
  const addSong = () =>
    written(async () => {
      await create(db, "songs", { songName, genre: songGenre });
      setSongName("");
    });
  const addPlaylist = () =>
    written(async () => {
      await create(db, "playlists", { name: playlistName, songIds: chosen, plays: 0 });
      setPlaylistName("");
      setChosen([]);
    });
  const remove = (item: Item) => () =>
    written(() => change(db, item.collection, item.id, () => null));
  const songName_ = (id: string) => text(songs?.find((s) => s.id === id)?.data, "songName");
  /**
   * Online, a play is sent at once (a play too soon says when to try again); offline, or for a
   * playlist not yet on the server, it is kept with its time and sent later.
   */
  const play = async (playlist: Item) => {
    setMessage(undefined);
    const playedAt = new Date();
    const keep = () => written(() => queuePlay(db, playlist.id, playedAt));
    // A playlist made here goes to the API first, so that the play can be counted now.
    if (navigator.onLine && !playlist.base) await session.sync.request();
    const current = await db.items.get(playlist.key);
    if (!navigator.onLine || !current?.base) return keep();
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
    } catch (error) {
      if (!(error instanceof ApiError)) return keep(); // no answer: kept for later
      setMessage(
        error.status === 429 && error.retryAfterSeconds
          ? `Try again in ${error.retryAfterSeconds} s.`
          : error.message,
      );
    }
  };
  const queued = (playlist: Item) =>
    library?.queuedPlays.filter((p) => p.playlistId === playlist.id).length ?? 0;
  return (
    <>
      <Alert message={message} />
      <p>
        Total plays: <strong data-testid="total-plays">{library?.totalPlays ?? "…"}</strong>
      </p>
      <Card title="Songs">
        {!known && <NotYet session={session} what="Loading your songs…" />}
        {known && songs?.length === 0 && <p class="muted">No songs yet: add one below.</p>}
        <ul class="items">
          {songs?.map((song) => {
            const title = text(song.data, "songName");
            return (
              <Row key={song.key} title={title} detail={text(song.data, "genre")}>
                <DeleteButton label={`Delete song ${title}`} onDelete={remove(song)} />
                <Note db={db} item={song} name={title} />
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
      <Card title="Playlists">
        {!known && !offline && <Loading what="Loading your playlists…" />}
        {known && playlists?.length === 0 && (
          <p class="muted">No playlists yet: create one below.</p>
        )}
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
                    {ids.map(songName_).join(" · ")}
                  </p>
                )}
                <Note db={db} item={playlist} name={name} />
                {songs && <PlaylistEditor session={session} playlist={playlist} songs={songs} />}
              </Row>
            );
          })}
        </ul>
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
      </Card>
    </>
  );
}
