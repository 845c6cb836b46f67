/**
 * The app's screens. Home, Library and Settings read the library on the device (app/store.ts)
 * and write there first, so they show at once, online or not; Featured and "Your data" ask the
 * API, as they are not kept on the device.
 */
import { liveQuery } from "dexie";
import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import type { MusicApi } from "../client/index.ts";
import { ApiError, type FeaturedPlaylist, idempotencyKey, ok } from "./api.ts";
import type { Session } from "./session.ts";
import {
  change,
  create,
  type Data,
  dismiss,
  type Item,
  keyOf,
  type LibraryDb,
  queuePlay,
} from "./store.ts";
import type { SyncState } from "./sync.ts";

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
function Row(props: { title: string; detail: string; children: ComponentChildren }) {
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

const DEFAULT_DISPLAY_NAME = "user";

/** What `query` reads from the device's library, read again whenever that data changes. */
function useLive<T>(query: () => Promise<T>, db: LibraryDb): T | undefined {
  const [value, setValue] = useState<T>();
  useEffect(() => {
    const subscription = liveQuery(query).subscribe({ next: setValue });
    return () => subscription.unsubscribe();
  }, [db]);
  return value;
}

/** The whole library on the device, and whether it has been pulled from the API at least once. */
function useLibrary(db: LibraryDb) {
  return useLive(async () => {
    const [items, plays, total, checkpoint] = await Promise.all([
      db.items.toArray(),
      db.plays.toArray(),
      db.meta.get("totalPlays"),
      db.meta.get("checkpoint"),
    ]);
    const byId = (a: Item, b: Item) => (a.id < b.id ? -1 : 1);
    const shown = (collection: string) =>
      items.filter((item) => item.collection === collection && item.data).sort(byId);
    return {
      songs: shown("songs"),
      playlists: shown("playlists"),
      profile: items.find((item) => item.collection === "profile"),
      queuedPlays: plays,
      totalPlays: typeof total?.value === "number" ? total.value + plays.length : undefined,
      pulled: checkpoint !== undefined,
    };
  }, db);
}

function useSyncState(session: Session): SyncState {
  const [state, setState] = useState(session.sync.state);
  useEffect(() => session.sync.subscribe(setState), [session]);
  return state;
}

const text = (data: Data | null | undefined, field: string) => {
  const value = data?.[field];
  return typeof value === "string" ? value : "";
};
const displayNameIn = (profile: Data | null | undefined) =>
  text(profile?.user_metadata as Data | undefined, "displayName") || DEFAULT_DISPLAY_NAME;

/**
 * Where the device's copy stands, in the header: "Offline", "2 changes waiting" (plays kept
 * offline included), "Synced"; and why a sync did not go through, when the network is there.
 */
export function SyncStatus({ session }: { session: Session }) {
  const state = useSyncState(session);
  const waiting =
    useLive(
      async () =>
        (await session.db.items.where("pending").equals(1).count()) +
        (await session.db.plays.count()),
      session.db,
    ) ?? 0;
  const changes = waiting ? `${count(waiting, "change")} waiting` : "";
  const shown = state.offline
    ? `Offline${changes ? `: ${changes}` : ""}`
    : changes || (state.synced ? "Synced" : "Syncing…");
  return (
    <div class="sync">
      <p role="status">{shown}</p>
      {state.problem && (
        <p class="error" role="alert">
          {state.problem}
        </p>
      )}
    </div>
  );
}

/**
 * Before the first pull: "Loading…" (a status), or, offline, that it waits for the network (an
 * alert, as the screen cannot show anything yet).
 */
function NotYet({ session, what }: { session: Session; what: string }) {
  const { offline } = useSyncState(session);
  return offline ? <Alert message={OFFLINE_RETRYING} /> : <Loading what={what} />;
}

/** A refusal of the API or a conflict it reported, on the item, until the person dismisses it. */
function Note({ db, item, name }: { db: LibraryDb; item: Item; name: string }) {
  if (!item.refused && !item.notice) return null;
  return (
    <div class="note">
      {item.refused && <p class="error">Not saved: {item.refused}</p>}
      {item.notice && <p class="notice">{item.notice}</p>}
      <button
        type="button"
        class="link"
        aria-label={`Dismiss note on ${name}`}
        onClick={() => void dismiss(db, item)}
      >
        Dismiss
      </button>
    </div>
  );
}

export function Home({ session }: { session: Session }) {
  const library = useLibrary(session.db);
  const profile = library?.profile?.data;
  const editor = session.roles.includes(EDITOR_ROLE);
  return (
    <>
      {!profile && <NotYet session={session} what="Loading your profile…" />}
      {profile && (
        <div class="hero">
          <h2>Welcome, {displayNameIn(profile)}</h2>
          {editor && (
            <span class="badge" title="You may edit featured playlists">
              EDITOR
            </span>
          )}
          <p>
            Favourite genre: <strong>{text(profile, "favGenre") || "not chosen yet"}</strong>
          </p>
          <p>
            Total plays: <strong data-testid="total-plays">{library?.totalPlays ?? "…"}</strong>
          </p>
        </div>
      )}
    </>
  );
}

export function Settings({ session }: { session: Session }) {
  const { db, userId } = session;
  const library = useLibrary(db);
  const profile = library?.profile;
  const [displayName, setDisplayName] = useState("");
  const [genre, setGenre] = useState("");
  const [saved, setSaved] = useState<string>();
  // The fields stay disabled until the profile is there: typed text is never overwritten by it.
  const [loaded, setLoaded] = useState(false);
  const { message, run } = useAction(session);
  useEffect(() => {
    if (loaded || !profile?.data) return;
    setDisplayName(displayNameIn(profile.data));
    setGenre(text(profile.data, "favGenre"));
    setLoaded(true);
  }, [profile, loaded]);
  const save = (what: string, update: (data: Data) => Data) => async (e: Event) => {
    e.preventDefault();
    setSaved(undefined);
    await change(db, "profile", userId, update);
    setSaved(`${what} saved.`);
    void session.sync.request();
  };
  return (
    <>
      <Alert message={message ?? (profile?.refused && `Not saved: ${profile.refused}`)} />
      {profile?.notice && (
        <Note db={db} item={{ ...profile, refused: undefined }} name="your profile" />
      )}
      {!loaded && !message && <NotYet session={session} what="Loading your settings…" />}
      {saved && !profile?.refused && (
        <p class="saved" role="status">
          {saved}
        </p>
      )}
      <Card title="Display name">
        <form
          onSubmit={save("Display name", (data) => ({
            ...data,
            user_metadata: { ...(data.user_metadata as Data | undefined), displayName },
          }))}
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
        <form onSubmit={save("Favourite genre", (data) => ({ ...data, favGenre: genre || null }))}>
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
