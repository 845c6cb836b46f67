import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningStack, startStack } from "../../scripts/local/stack.ts";
import { checkAgainstContract } from "../helpers/contract.ts";
import { call } from "../helpers/http.ts";
import {
  audience,
  issuer,
  machineTokenFor,
  pastTokenCutOff,
  tokenFor,
  uniqueUser,
} from "../helpers/tokens.ts";

/**
 * Every write happens exactly once, under the retries, races and sizes of real clients: over
 * HTTP through `npm start`, with small quotas so that they can be reached.
 */
let stack: RunningStack;
const MAX_PLAYLISTS = 20;
const MAX_FEATURED = 4;

beforeAll(async () => {
  stack = await startStack({
    AUTH_ISSUER: issuer(),
    AUTH_AUDIENCE: audience(),
    PLAY_COOLDOWN_SECONDS: "0",
    MAX_PLAYLISTS_PER_USER: String(MAX_PLAYLISTS),
    MAX_FEATURED_PER_EDITOR: String(MAX_FEATURED),
  });
});
afterAll(async () => {
  await stack?.stop();
});

const api = (method: string, path: string, options: Parameters<typeof call>[3] = {}) =>
  call(stack.baseUrl, method, path, options);
const userPath = (sub: string) => `/users/${encodeURIComponent(sub)}`;

/** The raw text of a response, to compare replays byte for byte. */
async function raw(method: string, path: string, token: string, body: unknown, key: string) {
  const response = await fetch(`${stack.baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      "idempotency-key": key,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  checkAgainstContract(method, response.url, response.status, response.headers, text);
  return { status: response.status, headers: response.headers, text };
}

async function songCount(token: string): Promise<number> {
  let count = 0;
  let cursor: string | undefined;
  do {
    const page = await api("GET", `/songs?limit=100${cursor ? `&cursor=${cursor}` : ""}`, {
      token,
    });
    count += page.body.songs.length;
    cursor = page.body.nextCursor ?? undefined;
  } while (cursor);
  return count;
}

describe("Idempotency-Key", () => {
  it("replays the first response byte for byte after the song was deleted, creating nothing", async () => {
    const token = await tokenFor(uniqueUser());
    const body = { songName: "Once", genre: "pop" };
    const first = await raw("POST", "/songs", token, body, "create-once-1");
    expect(first.status).toBe(201);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    const { songId } = JSON.parse(first.text);
    expect((await api("DELETE", `/songs/${songId}`, { token })).status).toBe(204);
    const again = await raw("POST", "/songs", token, body, "create-once-1");
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.text).toBe(first.text);
    expect(await songCount(token)).toBe(0);
  });

  it("answers another body under the same key 422 idempotency_key_reused, writing nothing", async () => {
    const token = await tokenFor(uniqueUser());
    const first = await raw("POST", "/playlists", token, { name: "A" }, "k-422");
    expect(first.status).toBe(201);
    const other = await raw("POST", "/playlists", token, { name: "B" }, "k-422");
    expect(other.status).toBe(422);
    expect(JSON.parse(other.text)).toMatchObject({
      statusCode: 422,
      errorCode: "idempotency_key_reused",
    });
    const { body } = await api("GET", "/playlists", { token });
    expect(body.playlists.map((p: { name: string }) => p.name)).toEqual(["A"]);
  });

  it("counts a retried play once, and parallel retries of it once", async () => {
    const token = await tokenFor(uniqueUser());
    const { body: playlist } = await api("POST", "/playlists", { token, body: { name: "P" } });
    const path = `/playlists/${playlist.playlistId}/plays`;
    const first = await raw("POST", path, token, undefined, "play-1");
    expect(first.status).toBe(200);
    expect(JSON.parse(first.text).plays).toBe(1);
    const retry = await raw("POST", path, token, undefined, "play-1");
    expect(retry.status).toBe(200);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(retry.text).toBe(first.text);
    const parallel = await Promise.all(
      Array.from({ length: 8 }, () => raw("POST", path, token, undefined, "play-2")),
    );
    // One counts; the others replay it or, while it runs, are told to retry.
    for (const response of parallel) expect([200, 409]).toContain(response.status);
    expect(
      parallel.filter((r) => r.status === 200 && !r.headers.get("idempotent-replayed")),
    ).toHaveLength(1);
    for (const busy of parallel.filter((r) => r.status === 409)) {
      expect(JSON.parse(busy.text).errorCode).toBe("idempotency_key_in_use");
      expect(busy.headers.get("retry-after")).toBe("1");
    }
    expect((await api("GET", "/playlists/getPlays", { token })).body).toEqual({ plays: 2 });
  });

  it("keeps ids time-ordered with keys: lists run in creation order", async () => {
    const token = await tokenFor(uniqueUser());
    const names = ["first", "second", "third", "fourth"];
    for (const [i, songName] of names.entries()) {
      await raw("POST", "/songs", token, { songName, genre: "g" }, `order-${9 - i}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const { body } = await api("GET", "/songs", { token });
    expect(body.songs.map((s: { songName: string }) => s.songName)).toEqual(names);
  });
});

describe("quotas and lists", () => {
  it("makes exactly the quota of 25 parallel creations, refusing the rest 409 quota_exceeded", async () => {
    const token = await tokenFor(uniqueUser());
    const created = await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        api("POST", "/playlists", { token, body: { name: `P${i}` } }),
      ),
    );
    const statuses = created.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(MAX_PLAYLISTS);
    expect(statuses.filter((s) => s === 409)).toHaveLength(25 - MAX_PLAYLISTS);
    expect(created.find((r) => r.status === 409)?.body.errorCode).toBe("quota_exceeded");
    const { body } = await api("GET", "/playlists?limit=100", { token });
    expect(body.playlists).toHaveLength(MAX_PLAYLISTS);
    // Deleting one frees a place.
    await api("DELETE", `/playlists/${body.playlists[0].playlistId}`, { token });
    expect((await api("POST", "/playlists", { token, body: { name: "again" } })).status).toBe(201);
  });

  it("answers nextCursor null on a full last page", async () => {
    const token = await tokenFor(uniqueUser());
    for (let i = 0; i < 4; i++) {
      await api("POST", "/songs", { token, body: { songName: `S${i}`, genre: "g" } });
    }
    const first = await api("GET", "/songs?limit=2", { token });
    expect(first.body.songs).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const last = await api("GET", `/songs?limit=2&cursor=${first.body.nextCursor}`, { token });
    expect(last.body.songs).toHaveLength(2);
    expect(last.body.nextCursor).toBeNull();
  });
});

describe("featured playlists", () => {
  /** A user given the editor role by an operator, as the hook or a back office would. */
  async function editor() {
    const sub = uniqueUser();
    const token = await tokenFor(sub);
    expect((await api("PUT", "/displayName", { token, body: { displayName: "Ed" } })).status).toBe(
      200,
    );
    const given = await api("PATCH", userPath(sub), {
      token: await machineTokenFor("ops", "update:users_app_metadata"),
      body: { app_metadata: { roles: ["playlist_editor"] } },
    });
    expect(given.status).toBe(200);
    return { sub, token };
  }
  const featuredIds = async (token: string) => {
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await api(
        "GET",
        `/playlists/featured?limit=3${cursor ? `&cursor=${cursor}` : ""}`,
        { token },
      );
      expect(page.status).toBe(200);
      ids.push(...page.body.playlists.map((p: { playlistId: string }) => p.playlistId));
      cursor = page.body.nextCursor ?? undefined;
    } while (cursor);
    return ids;
  };

  it("makes exactly MAX_FEATURED_PER_EDITOR of 12 parallel creations, listed in creation order", async () => {
    const alice = await editor();
    const created = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        api("POST", "/playlists/featured", { token: alice.token, body: { name: `F${i}` } }),
      ),
    );
    const made = created.filter((r) => r.status === 201);
    expect(made).toHaveLength(MAX_FEATURED);
    for (const refused of created.filter((r) => r.status !== 201)) {
      expect(refused.status).toBe(409);
      expect(refused.body.errorCode).toBe("quota_exceeded");
    }
    for (const { body } of made) {
      expect(body).toMatchObject({ createdBy: alice.sub, updatedBy: alice.sub, featured: true });
    }
    const ours = made.map((r) => r.body.playlistId as string).sort();
    const listed = await featuredIds(alice.token);
    expect(listed.filter((id) => ours.includes(id))).toEqual(ours);
  });

  it("lets only its editor or update:featured change it, and an operator restore it", async () => {
    const alice = await editor();
    const bob = await editor();
    const { body: picks } = await api("POST", "/playlists/featured", {
      token: alice.token,
      body: { name: "Alice's picks" },
    });
    const path = `/playlists/featured/${picks.playlistId}`;
    const byBob = await api("PATCH", path, { token: bob.token, body: { name: "Bob's" } });
    expect(byBob.status).toBe(403);
    expect(byBob.body.errorCode).toBe("not_featured_creator");
    expect((await api("DELETE", path, { token: bob.token })).status).toBe(403);

    const curator = await machineTokenFor("curation", "update:featured");
    const renamed = await api("PATCH", path, { token: curator, body: { name: "Staff picks" } });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ createdBy: alice.sub, updatedBy: "curation@clients" });

    expect((await api("DELETE", path, { token: alice.token })).status).toBe(204);
    expect(await featuredIds(bob.token)).not.toContain(picks.playlistId);
    const byEditor = await api("POST", `${path}/restore`, { token: alice.token });
    expect(byEditor.status).toBe(403);
    const restored = await api("POST", `${path}/restore`, { token: curator });
    expect(restored.status).toBe(200);
    expect(restored.body).toMatchObject({ name: "Staff picks", createdBy: alice.sub });
    expect(await featuredIds(bob.token)).toContain(picks.playlistId);
    const unknown = await api("POST", "/playlists/featured/01ARZ3NDEKTSV4RRFFQ69G5FAV/restore", {
      token: curator,
    });
    expect(unknown.status).toBe(404);
  });
});

describe("profiles: atomic preconditions", () => {
  it("never answers 412 after erasing: a DELETE with If-Match and a racing PATCH", async () => {
    const outcomes = new Set<number>();
    // A negative delay sends the PATCH first, a positive one the DELETE.
    for (const delay of [-20, -5, 0, 5, 20, 50]) {
      const sub = uniqueUser();
      const token = await tokenFor(sub);
      for (let batch = 0; batch < 6; batch++) {
        const created = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            api("POST", "/songs", { token, body: { songName: `S${batch}.${i}`, genre: "g" } }),
          ),
        );
        expect(created.map((r) => r.status)).toEqual(Array(10).fill(201));
      }
      const read = await api("PATCH", userPath(sub), {
        token,
        body: { user_metadata: { theme: "dark" } },
      });
      const etag = read.headers.get("etag") as string;
      const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
      const [deleted, patched] = await Promise.all([
        wait(-delay).then(() =>
          api("DELETE", userPath(sub), { token, headers: { "if-match": etag } }),
        ),
        wait(delay).then(() =>
          api("PATCH", userPath(sub), { token, body: { user_metadata: { theme: "light" } } }),
        ),
      ]);
      // An erased account's old token is cut off: its songs are counted with a new login's.
      if (deleted.status === 204) await pastTokenCutOff();
      const songs = await songCount(deleted.status === 204 ? await tokenFor(sub) : token);
      outcomes.add(deleted.status);
      if (deleted.status === 412) {
        // The PATCH landed first: nothing was erased.
        expect(patched.status, `delay ${delay}`).toBe(200);
        expect(songs, `delay ${delay}`).toBe(60);
      } else {
        expect(deleted.status, `delay ${delay}`).toBe(204);
        expect(songs, `delay ${delay}`).toBe(0);
        // The PATCH landed before the erasure began, was refused while the account went, or
        // came after it with a token the deletion cut off.
        expect([200, 401, 409], `delay ${delay}`).toContain(patched.status);
        if (patched.status === 409) expect(patched.body.errorCode).toBe("account_being_deleted");
      }
    }
    // Whichever order each round took, the invariants held; the 412 order is pinned below.
    expect(outcomes.size).toBeGreaterThan(0);
  }, 120_000);

  it("changes nothing on a 412: a DELETE whose If-Match a PATCH has made stale", async () => {
    const sub = uniqueUser();
    const token = await tokenFor(sub);
    await api("POST", "/songs", { token, body: { songName: "Kept", genre: "g" } });
    const read = await api("GET", userPath(sub), { token });
    await api("PATCH", userPath(sub), { token, body: { user_metadata: { theme: "light" } } });
    const stale = await api("DELETE", userPath(sub), {
      token,
      headers: { "if-match": read.headers.get("etag") as string },
    });
    expect(stale.status).toBe(412);
    expect(await songCount(token)).toBe(1);
    // Nothing was marked: the account takes writes as before.
    expect((await api("PUT", "/genres/fav", { token, body: { genre: "soul" } })).status).toBe(200);
  });

  it("answers 404 to operators for a user with nothing stored, creating nothing", async () => {
    const nobody = uniqueUser();
    const operator = await machineTokenFor(
      "ops",
      "read:users update:users update:users_app_metadata delete:users",
    );
    const patch = await api("PATCH", userPath(nobody), {
      token: operator,
      body: { app_metadata: { plan: "premium" } },
    });
    expect(patch.status).toBe(404);
    expect((await api("DELETE", userPath(nobody), { token: operator })).status).toBe(404);
    expect((await api("GET", userPath(nobody), { token: operator })).status).toBe(404);
  });

  it("compares If-Match strongly, matches * on a never-written profile, and moves the ETag with the genre", async () => {
    const sub = uniqueUser();
    const token = await tokenFor(sub);
    const fresh = await api("GET", userPath(sub), { token });
    expect(fresh.headers.get("etag")).toBe('"0"');
    const star = await api("PATCH", userPath(sub), {
      token,
      body: { user_metadata: { a: 1 } },
      headers: { "if-match": "*" },
    });
    expect(star.status).toBe(200);
    const etag = star.headers.get("etag") as string;
    const weak = await api("PATCH", userPath(sub), {
      token,
      body: { user_metadata: { a: 2 } },
      headers: { "if-match": `W/${etag}` },
    });
    expect(weak.status).toBe(412);
    await api("PUT", "/genres/fav", { token, body: { genre: "jazz" } });
    const after = await api("GET", userPath(sub), { token });
    expect(after.headers.get("etag")).not.toBe(etag);
    expect(after.body.user_metadata).toEqual({ a: 1 });
  });
});
