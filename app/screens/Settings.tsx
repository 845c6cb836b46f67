/**
 * Settings: the display name and the favourite genre, saved on the device first and pushed by the
 * sync; "Your data": a download of everything the API keeps, and the account's deletion.
 */
import { useEffect, useState } from "preact/hooks";
import type { MusicApi } from "../../client/index.ts";
import { ok } from "../api.ts";
import type { Session } from "../session.ts";
import { change, type Data } from "../store.ts";
import { Card, TextField } from "../widgets/controls.tsx";
import { useAction, useLibrary } from "../widgets/hooks.ts";
import { Alert, Loading, Note, NotYet } from "../widgets/status.tsx";
import { displayNameIn, text } from "../widgets/text.ts";

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
      <ProfileSetting
        name="Display name"
        id="displayName"
        hint="Shown when you log in and to other users"
        value={displayName}
        loaded={loaded}
        onChange={setDisplayName}
        onSubmit={save("Display name", (data) => ({
          ...data,
          user_metadata: { ...(data.user_metadata as Data | undefined), displayName },
        }))}
      />
      <ProfileSetting
        name="Favourite genre"
        id="genre"
        value={genre}
        loaded={loaded}
        onChange={setGenre}
        onSubmit={save("Favourite genre", (data) => ({ ...data, favGenre: genre || null }))}
      />
      <YourData session={session} run={run} />
    </>
  );
}

/**
 * One setting of the profile in a card of its name: its field and its save button, disabled
 * until the profile is there.
 */
function ProfileSetting(props: {
  name: string;
  id: string;
  hint?: string;
  value: string;
  loaded: boolean;
  onChange: (value: string) => void;
  onSubmit: (e: Event) => void;
}) {
  return (
    <Card title={props.name}>
      <form onSubmit={props.onSubmit}>
        <TextField
          id={props.id}
          label={props.name}
          hint={props.hint}
          value={props.value}
          disabled={!props.loaded}
          onChange={props.onChange}
        />
        <button type="submit" disabled={!props.loaded}>
          {`Save ${props.name.toLowerCase()}`}
        </button>
      </form>
    </Card>
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
