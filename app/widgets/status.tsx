/**
 * What the screens say of their state: an error (an alert), what is loading (a status), the
 * sync's state in the header, and a note the API left on an item.
 */
import type { Session } from "../session.ts";
import { dismiss, type Item, type LibraryDb } from "../store.ts";
import { OFFLINE_RETRYING, useLive, useSyncState } from "./hooks.ts";
import { count } from "./text.ts";

export function Alert({ message }: { message?: string }) {
  return message ? (
    <p class="error" role="alert">
      {message}
    </p>
  ) : null;
}

/** What is loading, announced politely (a status, not an alert). */
export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" role="status">
      {what}
    </p>
  );
}

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
export function NotYet({ session, what }: { session: Session; what: string }) {
  const { offline } = useSyncState(session);
  return offline ? <Alert message={OFFLINE_RETRYING} /> : <Loading what={what} />;
}

/** A refusal of the API or a conflict it reported, on the item, until the person dismisses it. */
export function Note({ db, item, name }: { db: LibraryDb; item: Item; name: string }) {
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
