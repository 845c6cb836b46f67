/**
 * Exchanges the device's library (app/store.ts) with the API, as docs/sync.md tells a client:
 * push the queued changes (POST /sync, `assumed` the last pulled Doc), send the plays kept while
 * offline (POST /playlists/{id}/plays with their `playedAt`), then pull (GET /sync) from the
 * checkpoint. It runs on start, on focus, when the browser is back online, every 30 s and after
 * each change the person makes; one run at a time, a request during a run runs once more after.
 */
import type { MusicApi } from "../client/index.ts";
import { ApiError, ok } from "./api.ts";
import { type Collection, type Data, type Doc, keyOf, type LibraryDb, writable } from "./store.ts";

export interface SyncState {
  /** The browser says it is offline, or the API did not answer the last try. */
  offline: boolean;
  /** What went wrong at the last try, in words for the person (none: it went through). */
  problem?: string;
  /** A sync has gone through since the app started. */
  synced: boolean;
}

const PERIOD_MS = 30_000;
/** While the API does not answer (starting, a network that drops), tried again this soon. */
const RETRY_MS = 2_000;
const PAGE = 500;
/** Songs before the playlists that may list them (a push applies its changes in order). */
const ORDER: Record<Collection, number> = { songs: 0, playlists: 1, profile: 2 };

const quoted = (value: unknown) => `“${typeof value === "string" ? value : JSON.stringify(value)}”`;
const FIELDS: Record<string, string> = {
  name: "Renamed",
  songName: "Renamed",
  genre: "Genre changed",
  favGenre: "Favourite genre changed",
  "user_metadata.displayName": "Display name changed",
};

/** A conflict the API reports (both sides changed a field; the pushed value was kept). */
function conflictText(field: string, kept: unknown, replaced: unknown): string {
  const what = FIELDS[field] ?? `${field} changed`;
  return `${what} on another device to ${quoted(replaced)}; yours, ${quoted(kept)}, was kept.`;
}

/**
 * A pulled or pushed state of an item as this device shows it. A play does not move a
 * playlist's version, so a Doc may carry fewer plays than the device already counted (its own
 * plays, sent after the push that made that version): plays only grow, the larger count stays.
 */
function adopt(doc: Doc, shown: Data | null | undefined): Data | null {
  if (doc.collection !== "playlists" || !doc.data || !shown) return doc.data;
  const plays = Math.max(Number(doc.data.plays ?? 0), Number(shown.plays ?? 0));
  return { ...doc.data, plays };
}

export class Sync {
  state: SyncState = { offline: !navigator.onLine, synced: false };
  private readonly listeners = new Set<(state: SyncState) => void>();
  private running: Promise<void> | undefined;
  private again = false;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly db: LibraryDb,
    private readonly api: () => Promise<MusicApi>,
  ) {}

  /** Starts the triggers; the answer stops them. */
  start(): () => void {
    const run = () => void this.request();
    const visible = () => document.visibilityState === "visible" && run();
    const offline = () => this.set({ offline: true });
    window.addEventListener("online", run);
    window.addEventListener("offline", offline);
    window.addEventListener("focus", run);
    document.addEventListener("visibilitychange", visible);
    const period = setInterval(run, PERIOD_MS);
    run();
    return () => {
      window.removeEventListener("online", run);
      window.removeEventListener("offline", offline);
      window.removeEventListener("focus", run);
      document.removeEventListener("visibilitychange", visible);
      clearInterval(period);
      clearTimeout(this.timer);
    };
  }

  subscribe(listener: (state: SyncState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Syncs now, or once more after the run under way. */
  request(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.once();
      } while (this.again);
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private set(patch: Partial<SyncState>): void {
    this.state = { ...this.state, ...patch };
    for (const listener of this.listeners) listener(this.state);
  }

  private async once(): Promise<void> {
    clearTimeout(this.timer);
    if (!navigator.onLine) {
      this.set({ offline: true, problem: undefined });
      return;
    }
    try {
      const api = await this.api();
      await this.push(api);
      await this.sendPlays(api);
      await this.pull(api);
      // The API answers: the screens show what it sent, so no word of it being away stays.
      this.set({ offline: false, problem: undefined });
      const total = ok(await api.GET("/playlists/getPlays"));
      await this.db.meta.put({ name: "totalPlays", value: total.plays });
      this.set({ offline: false, problem: undefined, synced: true });
    } catch (error) {
      if (error instanceof ApiError) {
        this.set({ offline: false, problem: error.message });
        return;
      }
      // No answer (fetch's TypeError, or auth0-spa-js unable to reach the tenant): the device
      // or the API is away; the data stays, and the next try (or the `online` event) resumes.
      const offline = !navigator.onLine;
      this.set({
        offline,
        problem: offline ? undefined : "The music service is starting or unreachable; retrying…",
      });
      if (!offline) this.timer = setTimeout(() => void this.request(), RETRY_MS);
    }
  }

  private async push(api: MusicApi): Promise<void> {
    const { db } = this;
    const pending = await db.items.where("pending").equals(1).toArray();
    pending.sort((a, b) => ORDER[a.collection] - ORDER[b.collection] || (a.id < b.id ? -1 : 1));
    for (let start = 0; start < pending.length; start += 100) {
      const chunk = pending.slice(start, start + 100);
      const sent = new Map(chunk.map((item) => [item.key, item.edits]));
      const changes = chunk.map((item) => ({
        collection: item.collection,
        id: item.id,
        assumed: item.base,
        data: item.data && writable(item.collection, item.data),
      }));
      const answer = ok(await api.POST("/sync", { body: { changes } }));
      const refusals = new Map(
        answer.errors.map(({ collection, id, error }) => [keyOf(collection, id), error.message]),
      );
      const notices = new Map<string, string>();
      for (const { collection, id, field, kept, replaced } of answer.conflicts) {
        const key = keyOf(collection, id);
        const text = conflictText(field, kept, replaced);
        notices.set(key, notices.has(key) ? `${notices.get(key)} ${text}` : text);
      }
      await db.transaction("rw", db.items, async () => {
        const answered = new Set<string>();
        for (const doc of answer.documents as Doc[]) {
          const key = keyOf(doc.collection, doc.id);
          answered.add(key);
          const item = await db.items.get(key);
          if (!item) continue;
          const notice = notices.get(key) ?? item.notice;
          // Changed again during the push: that change stays queued, on the new ancestor.
          if (item.edits !== sent.get(key)) {
            await db.items.update(key, { base: doc, notice });
            continue;
          }
          const refused =
            refusals.get(key) ??
            (doc.deleted && item.data !== null ? "Deleted on another device." : undefined);
          if (doc.deleted && refused) {
            // Kept, with the reason, until the person has read it (dismiss removes it).
            await db.items.update(key, { base: doc, pending: 0, refused, notice });
          } else if (doc.deleted) {
            await db.items.delete(key);
          } else {
            const data = adopt(doc, item.data);
            await db.items.put({ ...item, data, base: doc, pending: 0, refused, notice });
          }
        }
        for (const [key, refused] of refusals) {
          if (!answered.has(key)) await db.items.update(key, { pending: 0, refused });
        }
      });
    }
  }

  private async sendPlays(api: MusicApi): Promise<void> {
    const { db } = this;
    for (const play of await db.plays.orderBy("playedAt").toArray()) {
      const { playlistId, playedAt } = play;
      const answer = await api.POST("/playlists/{playlistId}/plays", {
        params: { path: { playlistId }, header: { "Idempotency-Key": play.key } },
        body: { playedAt },
      });
      const status = answer.response.status;
      const errorCode = (answer.error as { errorCode?: string } | undefined)?.errorCode;
      // The API busy or the caller over budget: the play waits for the next run.
      if (status >= 500 || errorCode === "rate_limited") return;
      await db.transaction("rw", db.items, db.plays, async () => {
        await db.plays.delete(play.key);
        const key = keyOf("playlists", playlistId);
        const playlist = await db.items.get(key);
        if (answer.data && playlist?.data) {
          await db.items.update(key, { data: { ...playlist.data, plays: answer.data.plays } });
        }
      });
      // Otherwise refused for good (too soon after another play, too old, the playlist gone):
      // the API's rule decides whether a play counts, so it is not sent again.
    }
  }

  private async pull(api: MusicApi): Promise<void> {
    const { db } = this;
    let checkpoint = (await db.meta.get("checkpoint"))?.value as string | undefined;
    /** After a 410: every key the pull from the beginning brings (the rest are long deleted). */
    let restarted: Set<string> | undefined;
    for (;;) {
      const query = checkpoint === undefined ? { limit: PAGE } : { checkpoint, limit: PAGE };
      const answer = await api.GET("/sync", { params: { query } });
      const code = (answer.error as { errorCode?: string } | undefined)?.errorCode;
      if (
        checkpoint !== undefined &&
        (code === "checkpoint_expired" || code === "invalid_checkpoint")
      ) {
        // Away past the 30 days of deletions (or a checkpoint the API no longer reads, as after a
        // change of its signing secret): from the beginning.
        checkpoint = undefined;
        restarted = new Set();
        continue;
      }
      const page = ok(answer);
      await db.transaction("rw", db.items, db.meta, async () => {
        for (const doc of page.documents as Doc[]) {
          const key = keyOf(doc.collection, doc.id);
          restarted?.add(key);
          const item = await db.items.get(key);
          // A queued change keeps its own data and its old ancestor: the push merges them.
          if (item?.pending) continue;
          if (doc.deleted) {
            if (!item?.refused) await db.items.delete(key);
            continue;
          }
          await db.items.put({
            key,
            collection: doc.collection,
            id: doc.id,
            data: adopt(doc, item?.data),
            base: doc,
            pending: 0,
            edits: item?.edits ?? 0,
            refused: item?.refused,
            notice: item?.notice,
          });
        }
        await db.meta.put({ name: "checkpoint", value: page.checkpoint });
      });
      checkpoint = page.checkpoint;
      if (page.documents.length > 0) continue;
      // Items deleted longer ago than the API keeps deletions never come again: drop those the
      // device holds unchanged (its own queued changes and notes stay).
      const seen = restarted;
      if (seen) {
        await db.items
          .filter((item) => !item.pending && !item.refused && !!item.base && !seen.has(item.key))
          .delete();
      }
      return;
    }
  }
}
