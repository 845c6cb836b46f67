/**
 * Sync converges (CONTRACT: Sync), over HTTP through `npm start`: four devices of one user make
 * some 300 random changes (songs, playlists, their songs, deletions, metadata, plays), each
 * going offline at random and queueing its changes, some pushes landing with their answer lost
 * and sent again, and one device away while the others change everything. Afterwards every
 * device holds what the server holds (a pull from scratch, and the REST lists), every change
 * acknowledged and not undone is there, and nothing is there twice.
 *
 * A device keeps what docs/sync.md says: per item its last pulled Doc (the merge's ancestor) and
 * its own current data, its checkpoint, and so its queue (the items whose data differ from
 * their Doc).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../../lib/ids.ts";
import { type RunningStack, startStack } from "../../scripts/local/stack.ts";
import { call } from "../helpers/http.ts";
import { audience, issuer, tokenFor, uniqueUser } from "../helpers/tokens.ts";

let stack: RunningStack;

beforeAll(async () => {
  stack = await startStack({
    AUTH_ISSUER: issuer(),
    AUTH_AUDIENCE: audience(),
    PLAY_COOLDOWN_SECONDS: "0",
    // Four devices of one user at test speed: the per-caller limits are not what is tested.
    USER_READS_PER_SECOND: "10000",
    USER_WRITES_PER_SECOND: "10000",
    USER_READ_UNITS_PER_SECOND: "100000",
    USER_WRITE_UNITS_PER_SECOND: "100000",
  });
});
afterAll(async () => {
  await stack?.stop();
});

type Fields = Record<string, unknown>;
interface Doc {
  collection: "songs" | "playlists" | "profile";
  id: string;
  version: string;
  deleted: boolean;
  data: Fields | null;
}

/** A seeded generator (mulberry32): a failing run can be replayed from its seed. */
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WRITABLE: Record<Doc["collection"], string[]> = {
  songs: ["songName", "genre"],
  playlists: ["name", "songIds"],
  profile: ["user_metadata", "favGenre"],
};
const writable = (collection: Doc["collection"], data: Fields | null) =>
  data === null ? null : Object.fromEntries(WRITABLE[collection].map((f) => [f, data[f] ?? null]));
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
/** JSON with object keys sorted, to compare states whatever order their keys came in. */
const canonical = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(canonical)
    : value && typeof value === "object"
      ? Object.fromEntries(
          Object.entries(value)
            .sort(([a], [b]) => (a < b ? -1 : 1))
            .map(([k, v]) => [k, canonical(v)]),
        )
      : value;

class Device {
  /** Last pulled (or pushed and answered) Doc per item: the ancestor of its next change. */
  docs = new Map<string, Doc>();
  /** The device's own state of each item it holds (null: deleted here, not yet pushed). */
  local = new Map<string, Fields | null>();
  checkpoint: string | undefined;
  offlineUntil = 0;

  constructor(
    readonly name: string,
    readonly userId: string,
  ) {}

  /** The changes queued: items whose own state differs from their last Doc. */
  queue() {
    const changes: {
      collection: Doc["collection"];
      id: string;
      assumed: Doc | null;
      data: Fields | null;
    }[] = [];
    for (const [key, data] of this.local) {
      const doc = this.docs.get(key);
      const [collection, id] = key.split("/") as [Doc["collection"], string];
      const before = doc && !doc.deleted ? writable(collection, doc.data) : null;
      const now = writable(collection, data);
      if (same(before, now)) continue;
      if (!doc && data === null) continue;
      changes.push({ collection, id, assumed: doc ?? null, data: now });
    }
    // Songs first (a playlist may name one created in the same push), deletions of songs last.
    const rank = (c: (typeof changes)[number]) =>
      c.collection === "songs" ? (c.data === null ? 3 : 0) : c.collection === "profile" ? 1 : 2;
    return changes.sort((a, b) => rank(a) - rank(b));
  }

  /** Takes a Doc from the server, unless the device changed that item since (it is queued). */
  adopt(doc: Doc, force: boolean) {
    const key = `${doc.collection}/${doc.id}`;
    const old = this.docs.get(key);
    const pending =
      this.local.has(key) &&
      !same(
        old && !old.deleted ? writable(doc.collection, old.data) : null,
        writable(doc.collection, this.local.get(key) ?? null),
      );
    if (pending && !force) return;
    this.docs.set(key, doc);
    this.local.set(key, doc.deleted ? null : { ...(doc.data as Fields) });
  }

  live(collection: Doc["collection"]) {
    return [...this.local].filter(([k, v]) => k.startsWith(`${collection}/`) && v !== null) as [
      string,
      Fields,
    ][];
  }
}

describe("sync: four devices of one user", () => {
  it("converge after ~300 random changes with offline windows and lost answers", async () => {
    const seed = Number(process.env.SYNC_SEED ?? Date.now() % 100_000);
    const rand = random(seed);
    const pick = <T>(items: T[]): T | undefined => items[Math.floor(rand() * items.length)];
    const sub = uniqueUser();
    const token = await tokenFor(sub);
    const api = async (method: string, path: string, body?: unknown) => {
      try {
        return await call(stack.baseUrl, method, path, {
          token,
          ...(body === undefined ? {} : { body }),
        });
      } catch (error) {
        // A fault of the API: what the stack logged says which.
        const logged = stack
          .output()
          .split("\n")
          .filter((l) => /error|fault|exception/i.test(l));
        throw new Error(`${String(error)}, seed ${seed}\n${logged.slice(-10).join("\n")}`);
      }
    };
    const devices = [0, 1, 2, 3].map((i) => new Device(`device ${i}`, sub));
    const acknowledgedCreates = new Set<string>();
    const deletedEver = new Set<string>();
    const playsOf = new Map<string, number>();

    async function pullAll(device: Device) {
      for (let n = 0; n < 100; n++) {
        const query = device.checkpoint ? `&checkpoint=${device.checkpoint}` : "";
        const answer = await api("GET", `/sync?limit=50${query}`);
        expect(answer.status, JSON.stringify(answer.body)).toBe(200);
        for (const doc of answer.body.documents as Doc[]) device.adopt(doc, false);
        device.checkpoint = answer.body.checkpoint;
        if (answer.body.documents.length === 0) return;
      }
      throw new Error("pulling never ended");
    }

    async function sync(device: Device) {
      const changes = device.queue();
      for (let i = 0; i < changes.length; i += 100) {
        const batch = changes.slice(i, i + 100);
        // A push that landed but whose answer was lost: the device sends it again.
        if (rand() < 0.2) expect((await api("POST", "/sync", { changes: batch })).status).toBe(200);
        const answer = await api("POST", "/sync", { changes: batch });
        expect(answer.status, JSON.stringify(answer.body)).toBe(200);
        const refused = new Set(
          (answer.body.errors as { collection: string; id: string }[]).map(
            (e) => `${e.collection}/${e.id}`,
          ),
        );
        for (const change of batch) {
          const key = `${change.collection}/${change.id}`;
          if (refused.has(key)) continue;
          if (change.assumed === null && change.data !== null) acknowledgedCreates.add(key);
          if (change.data === null) deletedEver.add(key);
        }
        for (const doc of answer.body.documents as Doc[]) {
          device.adopt(doc, true);
          if (doc.deleted) deletedEver.add(`${doc.collection}/${doc.id}`);
        }
        // A refused change the answer holds no Doc for (a create refused): the device drops it.
        for (const key of refused) {
          if (!device.docs.has(key)) device.local.delete(key);
        }
      }
      await pullAll(device);
    }

    async function act(device: Device, step: number) {
      const online = step >= device.offlineUntil;
      const r = rand();
      const songs = device.live("songs");
      const playlists = device.live("playlists");
      if (r < 0.15 || songs.length === 0) {
        device.local.set(`songs/${newId()}`, { songName: `song ${step}`, genre: "pop" });
      } else if (r < 0.25 || playlists.length === 0) {
        const some = songs.slice(0, 3).map(([k]) => k.split("/")[1]);
        device.local.set(`playlists/${newId()}`, { name: `list ${step}`, songIds: some });
      } else if (r < 0.35) {
        const [key, data] = pick(playlists) as [string, Fields];
        device.local.set(key, { ...data, name: `renamed ${step} by ${device.name}` });
      } else if (r < 0.5) {
        const [key, data] = pick(playlists) as [string, Fields];
        const ids = data.songIds as string[];
        const song = (pick(songs) as [string, Fields])[0].split("/")[1] as string;
        if (!ids.includes(song)) device.local.set(key, { ...data, songIds: [...ids, song] });
      } else if (r < 0.6) {
        const [key, data] = pick(playlists) as [string, Fields];
        const ids = data.songIds as string[];
        const gone = pick(ids);
        if (gone) device.local.set(key, { ...data, songIds: ids.filter((i) => i !== gone) });
      } else if (r < 0.65) {
        device.local.set((pick(playlists) as [string, Fields])[0], null);
      } else if (r < 0.7) {
        const [key] = pick(songs) as [string, Fields];
        const id = key.split("/")[1] as string;
        device.local.set(key, null);
        // As the server does: the song leaves this device's playlists too.
        for (const [pk, p] of playlists) {
          const ids = p.songIds as string[];
          if (ids.includes(id))
            device.local.set(pk, { ...p, songIds: ids.filter((i) => i !== id) });
        }
      } else if (r < 0.82) {
        const key = `profile/${sub}`;
        const current = (device.local.get(key) ?? { user_metadata: {}, favGenre: null }) as Fields;
        const metadata = { ...(current.user_metadata as Fields) };
        const name = pick(["theme", "lang", "volume", "avatar"]) as string;
        if (rand() < 0.25) delete metadata[name];
        else metadata[name] = `${device.name} at ${step}`;
        const favGenre = rand() < 0.2 ? pick(["jazz", "rock", "pop"]) : current.favGenre;
        device.local.set(key, { ...current, user_metadata: metadata, favGenre });
      } else if (online && playlists.length) {
        // A play goes straight to the REST route; it needs the playlist on the server.
        const [key] = pick(playlists) as [string, Fields];
        const id = key.split("/")[1] as string;
        if (device.docs.has(key) && !device.docs.get(key)?.deleted) {
          const played = await api("POST", `/playlists/${id}/plays`);
          if (played.status === 200) playsOf.set(id, (playsOf.get(id) ?? 0) + 1);
          else expect(played.status).toBe(404);
        }
      }
      if (online && rand() < 0.3) await sync(device);
    }

    for (const device of devices) await sync(device);
    const STEPS = 300;
    for (let step = 0; step < STEPS; step++) {
      const device = pick(devices) as Device;
      // Random offline windows; device 3 is away from step 60 to 240, changing things offline.
      if (device === devices[3]) device.offlineUntil = step < 60 ? 0 : 240;
      else if (rand() < 0.05) device.offlineUntil = step + 1 + Math.floor(rand() * 30);
      await act(device, step);
    }
    // Everyone back online: two rounds, so each device sees what the last ones pushed.
    for (const device of devices) device.offlineUntil = 0;
    for (let round = 0; round < 2; round++) for (const device of devices) await sync(device);

    // The server's state: a pull from scratch, and the REST routes.
    const fresh = new Device("fresh", sub);
    await pullAll(fresh);
    const state = (d: Device) =>
      canonical(
        Object.fromEntries(
          [...d.local]
            .filter(([, v]) => v !== null)
            .map(([k, v]) => [k, writable(k.split("/")[0] as Doc["collection"], v)])
            .sort(([a], [b]) => ((a as string) < (b as string) ? -1 : 1)),
        ),
      );
    for (const device of devices)
      expect(state(device), `${device.name}, seed ${seed}`).toEqual(state(fresh));

    const songsListed: string[] = [];
    const playlistsListed: Fields[] = [];
    for (const [path, into, field] of [
      ["/songs", songsListed, "songs"],
      ["/playlists", playlistsListed, "playlists"],
    ] as const) {
      let cursor: string | undefined;
      do {
        const page = await api("GET", `${path}?limit=100${cursor ? `&cursor=${cursor}` : ""}`);
        for (const item of page.body[field]) {
          (into as unknown[]).push(field === "songs" ? item.songId : item);
        }
        cursor = page.body.nextCursor ?? undefined;
      } while (cursor);
    }
    // Nothing twice; the lists are what sync holds.
    expect(new Set(songsListed).size).toBe(songsListed.length);
    expect(
      fresh
        .live("songs")
        .map(([k]) => k.split("/")[1])
        .sort(),
    ).toEqual([...songsListed].sort());
    expect(
      fresh
        .live("playlists")
        .map(([k, v]) => canonical({ id: k.split("/")[1], ...writable("playlists", v) })),
    ).toEqual(
      expect.arrayContaining(
        playlistsListed.map((p) =>
          canonical({ id: p.playlistId, name: p.name, songIds: p.songIds }),
        ),
      ),
    );
    expect(playlistsListed).toHaveLength(fresh.live("playlists").length);
    for (const p of playlistsListed) {
      const ids = p.songIds as string[];
      expect(new Set(ids).size).toBe(ids.length);
      for (const id of ids) expect(songsListed).toContain(id);
      // Every play acknowledged on a playlist still there is counted, once.
      expect(p.plays, `plays of ${p.playlistId}, seed ${seed}`).toBe(
        playsOf.get(p.playlistId as string) ?? 0,
      );
    }
    // Every create acknowledged and never deleted is there.
    for (const key of acknowledgedCreates) {
      if (!deletedEver.has(key)) expect(fresh.local.get(key), `${key}, seed ${seed}`).toBeTruthy();
    }
    const profile = await api("GET", `/users/${encodeURIComponent(sub)}`);
    expect(canonical(profile.body.user_metadata)).toEqual(
      canonical((fresh.local.get(`profile/${sub}`) as Fields | undefined)?.user_metadata ?? {}),
    );
  }, 600_000);
});
