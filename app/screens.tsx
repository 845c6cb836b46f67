import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import type { MusicApi } from "../client/index.ts";
import {
  ApiError,
  type FeaturedPlaylist,
  idempotencyKey,
  ok,
  type Playlist,
  type Session,
  type Song,
} from "./api.ts";

const EDITOR_ROLE = "playlist_editor";

/**
 * fetch rejects with a TypeError ("Failed to fetch") when nothing answers: the API is down or
 * still starting, or the device is offline. Those say what is happening instead.
 */
const UNREACHABLE_RETRYING = "The music service is starting or unreachable; retrying…";
const UNREACHABLE = "The music service is unreachable. Check your connection and try again.";
const OFFLINE_RETRYING = "You are offline; retrying once you are back online…";
const OFFLINE = "You are offline. Check your connection and try again.";
const offline = () => typeof navigator !== "undefined" && navigator.onLine === false;
/** A screen's load is retried this often, 2 s apart, while the API does not answer (1 min). */
const LOAD_ATTEMPTS = 30;

/**
 * Runs an API call; a failure becomes the message shown, a 429 "Try again in N s". A load
 * (`retry`) is tried again while the API does not answer; a change never is (it may have landed).
 */
function useAction(session: Session) {
  const [message, setMessage] = useState<string>();
  const run = useCallback(
    async (work: (api: MusicApi) => Promise<unknown>, retry = false): Promise<boolean> => {
      setMessage(undefined);
      for (let attempt = 1; ; attempt++) {
        try {
          await work(await session.api());
          setMessage(undefined);
          return true;
        } catch (error) {
          if (error instanceof TypeError) {
            if (retry && attempt < LOAD_ATTEMPTS) {
              setMessage(offline() ? OFFLINE_RETRYING : UNREACHABLE_RETRYING);
              await new Promise((resolve) => setTimeout(resolve, 2_000));
              continue;
            }
            setMessage(offline() ? OFFLINE : UNREACHABLE);
          } else if (error instanceof ApiError && error.status === 429 && error.retryAfterSeconds)
            setMessage(`Try again in ${error.retryAfterSeconds} s.`);
          else setMessage(error instanceof Error ? error.message : String(error));
          return false;
        }
      }
    },
    [session],
  );
  return { message, run };
}

function Alert({ message }: { message?: string }) {
  return message ? (
    <p class="error" role="alert">
      {message}
    </p>
  ) : null;
}

function Card({ title, children }: { title: string; children: ComponentChildren }) {
  return (
    <section class="card" aria-label={title}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}

/** What is loading, announced politely (a status, not an alert). */
function Loading({ what }: { what: string }) {
  return (
    <p class="muted" role="status">
      {what}
    </p>
  );
}

/**
 * A labelled input: the label is its name (what it is), the hint its description, so a screen
 * reader says "Display name, edit text, Shown when you log in…" rather than the hint alone.
 */
function TextField(props: {
  id: string;
  label: string;
  hint?: string;
  value: string;
  disabled?: boolean;
  onChange: (value: string) => void;
}) {
  const hintId = `${props.id}-hint`;
  return (
    <>
      <label for={props.id}>{props.label}</label>
      {props.hint && (
        <p id={hintId} class="hint">
          {props.hint}
        </p>
      )}
      <input
        id={props.id}
        value={props.value}
        disabled={props.disabled}
        aria-describedby={props.hint ? hintId : undefined}
        onInput={(e) => props.onChange(e.currentTarget.value)}
      />
    </>
  );
}

/** A row of a list: what it is, a detail, and what can be done with it. */
function Item(props: { title: string; detail: string; children: ComponentChildren }) {
  return (
    <li>
      <span>
        {props.title} <small>{props.detail}</small>
      </span>
      <span>{props.children}</span>
    </li>
  );
}

function DeleteButton({ label, onDelete }: { label: string; onDelete: () => unknown }) {
  return (
    <button type="button" class="link" aria-label={label} onClick={() => void onDelete()}>
      Delete
    </button>
  );
}

const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`;

/** A form's submit: the page stays, the work runs. */
const submitted = (work: () => unknown) => (e: Event) => {
  e.preventDefault();
  void work();
};

/**
 * A screen that shows what `load` fetches: loads it once, and again after each change that
 * succeeded (`change`), so the screen shows what the API stored. `load` answers how to show
 * what it read; only the latest load's is shown, so a slow first load that ends after a
 * change's reload never puts back the list from before the change.
 */
function useLoadedScreen(session: Session, load: (api: MusicApi) => Promise<() => void>) {
  const { message, run } = useAction(session);
  const latest = useRef(0);
  // Once per screen: `load` only sets the screen's state, so the first one serves throughout.
  const reload = useCallback(
    () =>
      run(async (api) => {
        const mine = ++latest.current;
        const show = await load(api);
        if (mine === latest.current) show();
      }, true),
    [run],
  );
  useEffect(() => void reload(), [reload]);
  const change = (work: (api: MusicApi) => Promise<unknown>) => async () => {
    if (await run(work)) await reload();
  };
  return { message, run, change };
}

export function Home({ session }: { session: Session }) {
  const [home, setHome] = useState<{
    displayName: string;
    favGenre: string | null;
    plays: number;
  }>();
  const { message, run } = useAction(session);
  useEffect(() => {
    void run(async (api) => {
      const [name, genre, plays] = await Promise.all([
        api.GET("/displayName").then(ok),
        api.GET("/genres/getFav").then(ok),
        api.GET("/playlists/getPlays").then(ok),
      ]);
      setHome({ displayName: name.displayName, favGenre: genre.favGenre, plays: plays.plays });
    }, true);
  }, [run]);
  const editor = session.roles.includes(EDITOR_ROLE);
  return (
    <>
      <Alert message={message} />
      {!home && !message && <Loading what="Loading your profile…" />}
      {home && (
        <div class="hero">
          <h2>Welcome, {home.displayName}</h2>
          {editor && (
            <span class="badge" title="You may edit featured playlists">
              EDITOR
            </span>
          )}
          <p>
            Favourite genre: <strong>{home.favGenre ?? "not chosen yet"}</strong>
          </p>
          <p>
            Total plays: <strong data-testid="total-plays">{home.plays}</strong>
          </p>
        </div>
      )}
    </>
  );
}

export function Settings({ session }: { session: Session }) {
  const [displayName, setDisplayName] = useState("");
  const [genre, setGenre] = useState("");
  const [saved, setSaved] = useState<string>();
  // The fields stay disabled until the profile arrives: typed text is never overwritten by it.
  const [loaded, setLoaded] = useState(false);
  const { message, run } = useAction(session);
  useEffect(() => {
    void run(async (api) => {
      const [name, fav] = await Promise.all([
        api.GET("/displayName").then(ok),
        api.GET("/genres/getFav").then(ok),
      ]);
      setDisplayName(name.displayName);
      setGenre(fav.favGenre ?? "");
      setLoaded(true);
    }, true);
  }, [run]);
  const save = (what: string, work: (api: MusicApi) => Promise<unknown>) => async (e: Event) => {
    e.preventDefault();
    setSaved(undefined);
    if (await run(work)) setSaved(`${what} saved.`);
  };
  return (
    <>
      <Alert message={message} />
      {!loaded && !message && <Loading what="Loading your settings…" />}
      {saved && (
        <p class="saved" role="status">
          {saved}
        </p>
      )}
      <Card title="Display name">
        <form
          onSubmit={save("Display name", async (api) => {
            const body = ok(await api.PUT("/displayName", { body: { displayName } }));
            setDisplayName(body.displayName);
          })}
        >
          <TextField
            id="displayName"
            label="Display name"
            hint="Shown when you log in and to other users"
            value={displayName}
            disabled={!loaded}
            onChange={setDisplayName}
          />
          <button type="submit" disabled={!loaded}>
            Save display name
          </button>
        </form>
      </Card>
      <Card title="Favourite genre">
        <form
          onSubmit={save("Favourite genre", async (api) => {
            ok(await api.PUT("/genres/fav", { body: { genre } }));
          })}
        >
          <TextField
            id="genre"
            label="Favourite genre"
            value={genre}
            disabled={!loaded}
            onChange={setGenre}
          />
          <button type="submit" disabled={!loaded}>
            Save favourite genre
          </button>
        </form>
      </Card>
      <YourData session={session} run={run} />
    </>
  );
}

/** Everything the API keeps of the user, its export pages joined into one document. */
async function exportAll(api: MusicApi, userId: string) {
  const pages = [];
  let cursor: string | undefined;
  do {
    const query = cursor === undefined ? {} : { cursor };
    const page = ok(
      await api.GET("/users/{userId}/export", { params: { path: { userId }, query } }),
    );
    pages.push(page);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  const [first] = pages;
  const { nextCursor: _, ...head } = first ?? { nextCursor: null };
  return {
    ...head,
    songs: pages.flatMap((page) => page.songs),
    playlists: pages.flatMap((page) => page.playlists),
  };
}

/** Saves `data` as a JSON file through the browser's download. */
function saveJson(data: unknown, fileName: string): void {
  const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** "Download my data" and "Delete my account" (asked twice), on the Settings screen. */
function YourData({
  session,
  run,
}: {
  session: Session;
  run: (work: (api: MusicApi) => Promise<unknown>) => Promise<boolean>;
}) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState<string>();
  const { userId } = session;
  const download = async () => {
    setBusy("Preparing your data…");
    await run(async (api) => saveJson(await exportAll(api, userId), "music-data-export.json"));
    setBusy(undefined);
  };
  const remove = async () => {
    setBusy("Deleting your account…");
    const done = await run(async (api) => {
      // The profile as it is now: a change from another device meanwhile stops the deletion.
      const read = await api.GET("/users/{userId}", { params: { path: { userId } } });
      ok(read);
      const etag = read.response.headers.get("etag") ?? "*";
      ok(
        await api.DELETE("/users/{userId}", {
          params: { path: { userId }, header: { "If-Match": etag } },
        }),
      );
    });
    setBusy(undefined);
    setConfirming(false);
    if (done) session.logout();
  };
  return (
    <Card title="Your data">
      <p>A copy of everything kept about you: profile, songs, playlists and plays.</p>
      <button type="button" onClick={download} disabled={busy !== undefined}>
        Download my data
      </button>
      {busy && <Loading what={busy} />}
      {confirming ? (
        <fieldset class="confirm">
          <legend>
            This erases your profile, songs, playlists and login for good. It cannot be undone.
          </legend>
          <button type="button" class="danger" onClick={remove} disabled={busy !== undefined}>
            Yes, delete my account
          </button>
          <button type="button" onClick={() => setConfirming(false)}>
            Keep my account
          </button>
        </fieldset>
      ) : (
        <button type="button" class="danger" onClick={() => setConfirming(true)}>
          Delete my account
        </button>
      )}
    </Card>
  );
}

export function Library({ session }: { session: Session }) {
  // undefined until loaded: "Loading…" then, "No songs yet." once the API said so.
  const [songs, setSongs] = useState<Song[]>();
  const [playlists, setPlaylists] = useState<Playlist[]>();
  const [plays, setPlays] = useState<number>();
  const [songName, setSongName] = useState("");
  const [songGenre, setSongGenre] = useState("");
  const [playlistName, setPlaylistName] = useState("");
  const [chosen, setChosen] = useState<string[]>([]);
  const { message, run, change } = useLoadedScreen(session, async (api) => {
    const [songPage, playlistPage, total] = await Promise.all([
      api.GET("/songs", { params: { query: { limit: 100 } } }).then(ok),
      api.GET("/playlists", { params: { query: { limit: 100 } } }).then(ok),
      api.GET("/playlists/getPlays").then(ok),
    ]);
    return () => {
      setSongs(songPage.songs);
      setPlaylists(playlistPage.playlists);
      setPlays(total.plays);
    };
  });
  const addSong = change(async (api) => {
    const body = { songName, genre: songGenre };
    ok(await api.POST("/songs", { body, params: { header: idempotencyKey() } }));
    setSongName("");
  });
  const addPlaylist = change(async (api) => {
    const body = { name: playlistName, songIds: chosen };
    ok(await api.POST("/playlists", { body, params: { header: idempotencyKey() } }));
    setPlaylistName("");
    setChosen([]);
  });
  const deleteSong = ({ songId }: Song) =>
    change(async (api) =>
      ok(await api.DELETE("/songs/{songId}", { params: { path: { songId } } })),
    );
  const deletePlaylist = ({ playlistId }: Playlist) =>
    change(async (api) =>
      ok(await api.DELETE("/playlists/{playlistId}", { params: { path: { playlistId } } })),
    );
  const play = (playlist: Playlist) =>
    run(async (api) => {
      const played = ok(
        await api.POST("/playlists/{playlistId}/plays", {
          params: { path: { playlistId: playlist.playlistId }, header: idempotencyKey() },
        }),
      );
      setPlaylists((all) => all?.map((p) => (p.playlistId === played.playlistId ? played : p)));
      setPlays((total) => (total ?? 0) + 1);
    });
  return (
    <>
      <Alert message={message} />
      <p>
        Total plays: <strong data-testid="total-plays">{plays ?? "…"}</strong>
      </p>
      <Card title="Songs">
        {songs === undefined && !message && <Loading what="Loading your songs…" />}
        {songs?.length === 0 && <p class="muted">No songs yet: add one below.</p>}
        <ul class="items">
          {songs?.map((song) => (
            <Item key={song.songId} title={song.songName} detail={song.genre}>
              <DeleteButton label={`Delete song ${song.songName}`} onDelete={deleteSong(song)} />
            </Item>
          ))}
        </ul>
        <form onSubmit={submitted(addSong)}>
          <TextField id="songName" label="Song name" value={songName} onChange={setSongName} />
          <TextField id="songGenre" label="Song genre" value={songGenre} onChange={setSongGenre} />
          <button type="submit">Add song</button>
        </form>
      </Card>
      <Card title="Playlists">
        {playlists === undefined && !message && <Loading what="Loading your playlists…" />}
        {playlists?.length === 0 && <p class="muted">No playlists yet: create one below.</p>}
        <ul class="items">
          {playlists?.map((playlist) => (
            <Item
              key={playlist.playlistId}
              title={playlist.name}
              detail={`${count(playlist.songIds.length, "song")}, ${count(playlist.plays, "play")}`}
            >
              <button
                type="button"
                aria-label={`Play ${playlist.name}`}
                onClick={() => play(playlist)}
              >
                Play
              </button>
              <DeleteButton
                label={`Delete playlist ${playlist.name}`}
                onDelete={deletePlaylist(playlist)}
              />
            </Item>
          ))}
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
                <label class="check" key={song.songId}>
                  <input
                    type="checkbox"
                    checked={chosen.includes(song.songId)}
                    onChange={(e) =>
                      setChosen((ids) =>
                        e.currentTarget.checked
                          ? [...ids, song.songId]
                          : ids.filter((id) => id !== song.songId),
                      )
                    }
                  />
                  {song.songName}
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

export function Featured({ session }: { session: Session }) {
  const [playlists, setPlaylists] = useState<FeaturedPlaylist[]>();
  const [names, setNames] = useState<Record<string, string>>({});
  const [newName, setNewName] = useState("");
  const editor = session.roles.includes(EDITOR_ROLE);
  // The API lets an editor change only the featured playlists they created (else 403
  // not_featured_creator): the others' are shown without edit controls.
  const mine = (playlist: FeaturedPlaylist) => editor && playlist.createdBy === session.userId;
  const { message, change } = useLoadedScreen(session, async (api) => {
    const page = ok(await api.GET("/playlists/featured", { params: { query: { limit: 100 } } }));
    return () => {
      setPlaylists(page.playlists);
      setNames(Object.fromEntries(page.playlists.map((p) => [p.playlistId, p.name])));
    };
  });
  const nameOf = ({ playlistId, name }: FeaturedPlaylist) => names[playlistId] ?? name;
  const create = change(async (api) => {
    const body = { name: newName, songIds: [] };
    ok(await api.POST("/playlists/featured", { body, params: { header: idempotencyKey() } }));
    setNewName("");
  });
  const rename = (playlist: FeaturedPlaylist) =>
    change(async (api) => {
      const params = { path: { playlistId: playlist.playlistId } };
      ok(
        await api.PATCH("/playlists/featured/{playlistId}", {
          params,
          body: { name: nameOf(playlist) },
        }),
      );
    });
  const remove = ({ playlistId }: FeaturedPlaylist) =>
    change(async (api) => {
      const params = { path: { playlistId } };
      ok(await api.DELETE("/playlists/featured/{playlistId}", { params }));
    });
  return (
    <>
      <Alert message={message} />
      {!editor && <p class="muted">Editors choose these; play enough and you may become one.</p>}
      {playlists === undefined && !message && <Loading what="Loading featured playlists…" />}
      <ul class="items">
        {playlists?.map((playlist) => (
          <li key={playlist.playlistId}>
            {mine(playlist) ? (
              <form class="inline" onSubmit={submitted(rename(playlist))}>
                <input
                  aria-label={`Name of ${playlist.name}`}
                  value={nameOf(playlist)}
                  onInput={(e) => {
                    const value = e.currentTarget.value;
                    setNames((all) => ({ ...all, [playlist.playlistId]: value }));
                  }}
                />
                <button type="submit" aria-label={`Rename ${playlist.name}`}>
                  Rename
                </button>
                <DeleteButton
                  label={`Delete featured ${playlist.name}`}
                  onDelete={remove(playlist)}
                />
              </form>
            ) : (
              <span class="featured-name">{playlist.name}</span>
            )}
          </li>
        ))}
      </ul>
      {playlists?.length === 0 && <p class="muted">No featured playlists yet.</p>}
      {editor && (
        <Card title="New featured playlist">
          <form onSubmit={submitted(create)}>
            <TextField
              id="featuredName"
              label="Featured playlist name"
              value={newName}
              onChange={setNewName}
            />
            <button type="submit">Create featured playlist</button>
          </form>
        </Card>
      )}
    </>
  );
}
