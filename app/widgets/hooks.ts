/**
 * What the screens share of their state: an API call's outcome shown as a message (retried while
 * the API does not answer), a screen loaded from the API, the library on the device read live,
 * and where its sync stands.
 */
import { liveQuery } from "dexie";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import type { MusicApi } from "../../client/index.ts";
import { ApiError } from "../api.ts";
import type { Session } from "../session.ts";
import type { Item, LibraryDb } from "../store.ts";
import type { SyncState } from "../sync.ts";

/**
 * fetch rejects with a TypeError ("Failed to fetch") when nothing answers: the API is down or
 * still starting, or the device is offline. Those say what is happening instead.
 */
const UNREACHABLE_RETRYING = "The music service is starting or unreachable; retrying…";
const UNREACHABLE = "The music service is unreachable. Check your connection and try again.";
export const OFFLINE_RETRYING = "You are offline; retrying once you are back online…";
const OFFLINE = "You are offline. Check your connection and try again.";
const offline = () => typeof navigator !== "undefined" && navigator.onLine === false;
/** A screen's load is retried this often, 2 s apart, while the API does not answer (1 min). */
const LOAD_ATTEMPTS = 30;

/**
 * Runs an API call; a failure becomes the message shown, a 429 "Try again in N s". A load
 * (`retry`) is tried again while the API does not answer; a change never is (it may have landed).
 */
export function useAction(session: Session) {
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

/**
 * A screen that shows what `load` fetches: loads it once, and again after each change that
 * succeeded (`change`), so the screen shows what the API stored. `load` answers how to show
 * what it read; only the latest load's is shown, so a slow first load that ends after a
 * change's reload never puts back the list from before the change.
 */
export function useLoadedScreen(session: Session, load: (api: MusicApi) => Promise<() => void>) {
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

/** What `query` reads from the device's library, read again whenever that data changes. */
export function useLive<T>(query: () => Promise<T>, db: LibraryDb): T | undefined {
  const [value, setValue] = useState<T>();
  useEffect(() => {
    const subscription = liveQuery(query).subscribe({ next: setValue });
    return () => subscription.unsubscribe();
  }, [db]);
  return value;
}

/** The whole library on the device, and whether it has been pulled from the API at least once. */
export function useLibrary(db: LibraryDb) {
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

export function useSyncState(session: Session): SyncState {
  const [state, setState] = useState(session.sync.state);
  useEffect(() => session.sync.subscribe(setState), [session]);
  return state;
}
