/**
 * The featured list's hot read (lib/db/featured.ts): a container answers home screens from the
 * pages it read while the version stamp says they are current. A change leaves the list at once
 * for the editor who made it and for everyone else; concurrent home loads share one Query; the
 * cursors and the largest pages are as without a cache. DynamoDB calls are counted on the
 * shared client (tests/helpers/calls.ts), as AWS would bill them.
 */
import "./featured-cache-env.ts";
import { CreateTableCommand, DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { handler as songsHandler } from "../../../functions/songs.ts";
import { dynamodb } from "../../../lib/db/client.ts";
import { FEATURED_TABLE } from "../../../lib/db/featured.ts";
import { newId } from "../../../lib/ids.ts";
import { dynamoCallsOf } from "../../helpers/calls.ts";
import {
  createFeatured,
  editor,
  featuredPage,
  patchFeatured,
  removeFeatured,
  restoreFeatured,
} from "../../helpers/featured.ts";
import { httpEvent, invoke } from "../../helpers/invoke.ts";
import { storeSongs, writeItems } from "../../helpers/tables.ts";
import { tokenFor, uniqueUser } from "../../helpers/tokens.ts";

beforeAll(async () => {
  // The shape of the suite's own featured table (tests/global-setup.ts made it from serverless.yml).
  const { Table } = await dynamodb.send(
    new DescribeTableCommand({ TableName: "test-FeaturedPlaylistsTable" }),
  );
  await dynamodb.send(
    new CreateTableCommand({
      TableName: FEATURED_TABLE,
      KeySchema: Table?.KeySchema,
      AttributeDefinitions: Table?.AttributeDefinitions,
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
});

const listener = async () => ({ token: await tokenFor(uniqueUser()) });

/** Every featured playlist, walking the cursors with pages of `limit`. */
async function listAll(token: string, limit = 100) {
  const playlists: Record<string, unknown>[] = [];
  let pages = 0;
  let cursor: string | undefined;
  do {
    const answer = await featuredPage(token, {
      limit: String(limit),
      ...(cursor ? { cursor } : {}),
    });
    expect(answer.statusCode).toBe(200);
    playlists.push(...answer.body.playlists);
    cursor = answer.body.nextCursor ?? undefined;
    pages += 1;
  } while (cursor);
  return { playlists, ids: playlists.map((p) => p.playlistId as string), pages };
}

const operatorToken = () => tokenFor(uniqueUser(), { permissions: ["update:featured"] });

describe("the featured list, cached per container under a version stamp", () => {
  it("shows an editor's create, change, delete and restore at once, to the editor and to others", async () => {
    const alice = await editor();
    const bob = await listener();
    // Both have the list cached before each change.
    await listAll(alice.token);
    await listAll(bob.token);

    const created = await createFeatured(alice.token, { name: "Tonight" });
    expect(created.statusCode).toBe(201);
    const id = created.body.playlistId;
    for (const { token } of [alice, bob]) {
      expect((await listAll(token)).ids).toContain(id);
    }

    expect((await patchFeatured(alice.token, id, { name: "Tonight, late" })).statusCode).toBe(200);
    for (const { token } of [alice, bob]) {
      const shown = (await listAll(token)).playlists.find((p) => p.playlistId === id);
      expect(shown?.name).toBe("Tonight, late");
    }

    expect((await removeFeatured(alice.token, id)).statusCode).toBe(204);
    for (const { token } of [alice, bob]) {
      expect((await listAll(token)).ids).not.toContain(id);
    }

    expect((await restoreFeatured(await operatorToken(), id)).statusCode).toBe(200);
    for (const { token } of [alice, bob]) {
      expect((await listAll(token)).ids).toContain(id);
    }
  });

  it("drops a song its editor deletes from a cached page at once", async () => {
    const alice = await editor();
    const [kept, gone] = (await storeSongs(alice.sub, 2)) as [string, string];
    const created = await createFeatured(alice.token, { name: "Two songs", songIds: [kept, gone] });
    expect(created.statusCode).toBe(201);
    const bob = await listener();
    const songsOf = async () =>
      (await listAll(bob.token)).playlists.find((p) => p.playlistId === created.body.playlistId)
        ?.songIds;
    expect(await songsOf()).toEqual([kept, gone]);
    const deleted = await invoke(
      songsHandler,
      httpEvent("deleteSong", { token: alice.token, pathParameters: { songId: gone } }),
    );
    expect(deleted.statusCode).toBe(204);
    expect(await songsOf()).toEqual([kept]);
  });

  it("answers a warm home load with one GetItem of the stamp, and no Query", async () => {
    const alice = await editor();
    expect((await createFeatured(alice.token, { name: "Warm" })).statusCode).toBe(201);
    const bob = await listener();
    await featuredPage(bob.token);
    const calls = await dynamoCallsOf(() => featuredPage(bob.token));
    expect(calls).toEqual(["GetItemCommand"]);
    // Another caller in the same container reads the same page: the cache is not per caller.
    const carol = await listener();
    expect(await dynamoCallsOf(() => featuredPage(carol.token))).toEqual(["GetItemCommand"]);
  });

  it("costs a cached read whatever limit or cursor a caller sends: twenty limits, no Query", async () => {
    const alice = await editor();
    for (const name of ["a", "b", "c", "d", "e"]) {
      expect((await createFeatured(alice.token, { name })).statusCode).toBe(201);
    }
    const bob = await listener();
    const whole = await featuredPage(bob.token);
    const cursor = (await featuredPage(bob.token, { limit: "2" })).body.nextCursor;
    const calls = await dynamoCallsOf(async () => {
      for (let limit = 81; limit <= 100; limit++) {
        const page = await featuredPage(bob.token, { limit: String(limit) });
        expect(page.body.playlists).toEqual(whole.body.playlists.slice(0, limit));
      }
      for (let limit = 1; limit <= 20; limit++) {
        const page = await featuredPage(bob.token, { limit: String(limit), cursor });
        expect(page.statusCode).toBe(200);
        expect(page.body.playlists).toEqual(whole.body.playlists.slice(2, 2 + limit));
      }
    });
    // Each request reads the stamp only: a limit or a cursor is sliced out of the cached block.
    expect(calls).toEqual(Array(40).fill("GetItemCommand"));
  });

  it("makes one Query for 20 concurrent home loads after a change", async () => {
    const alice = await editor();
    expect((await createFeatured(alice.token, { name: "Busy evening" })).statusCode).toBe(201);
    const callers = await Promise.all(Array.from({ length: 20 }, listener));
    let answers: Awaited<ReturnType<typeof featuredPage>>[] = [];
    const calls = await dynamoCallsOf(async () => {
      answers = await Promise.all(callers.map(({ token }) => featuredPage(token)));
    });
    expect(calls.filter((call) => call === "QueryCommand")).toHaveLength(1);
    // One stamp read in flight at a time: loads arriving meanwhile share the next one.
    expect(calls.filter((call) => call === "GetItemCommand").length).toBeLessThanOrEqual(20);
    expect(calls.length).toBeLessThanOrEqual(21);
    const lists = answers.map((answer) =>
      answer.body.playlists.map((p: { name: string }) => p.name),
    );
    for (const names of lists) expect(names).toContain("Busy evening");
  });

  it("keeps each caller's cursors their own, and walks every playlist once in creation order", async () => {
    const alice = await editor();
    for (const name of ["one", "two", "three"]) {
      expect((await createFeatured(alice.token, { name })).statusCode).toBe(201);
    }
    const bob = await listener();
    const carol = await listener();
    const bobs = await listAll(bob.token, 2);
    const carols = await listAll(carol.token, 2);
    expect(carols.ids).toEqual(bobs.ids);
    expect(new Set(bobs.ids).size).toBe(bobs.ids.length);
    expect(bobs.ids).toEqual([...bobs.ids].sort());
    const first = await featuredPage(bob.token, { limit: "2" });
    const stolen = await featuredPage(carol.token, { limit: "2", cursor: first.body.nextCursor });
    expect(stolen.statusCode).toBe(400);
    expect(stolen.body.errorCode).toBe("invalid_cursor");
  });

  it("lists the largest playlists completely, pages cut at 1 MB, from the cache as from the table", async () => {
    const alice = await editor();
    const now = new Date().toISOString();
    // 40 playlists of 500 ids of 64 characters: about 33 kB each, so a page of 100 stops at 1 MB.
    const items = Array.from({ length: 40 }, () => ({
      shelf: "live",
      playlist_id: newId(),
      user_id: alice.sub,
      name: "€".repeat(100),
      song_ids: Array.from({ length: 500 }, () => newId().padEnd(64, "x")),
      plays: 0,
      created_at: now,
      updated_at: now,
      created_by: alice.sub,
      updated_by: alice.sub,
    }));
    await writeItems(FEATURED_TABLE, items);
    // Written straight to the table, they bump no stamp: a change through the API does.
    expect((await createFeatured(alice.token, { name: "After the large ones" })).statusCode).toBe(
      201,
    );
    const bob = await listener();
    const fromTable = await listAll(bob.token);
    const expected = items.map((item) => item.playlist_id);
    expect(fromTable.ids.filter((id) => expected.includes(id))).toEqual(expected.sort());
    expect(fromTable.pages).toBeGreaterThan(1);
    let fromCache: Awaited<ReturnType<typeof listAll>> | undefined;
    const calls = await dynamoCallsOf(async () => {
      fromCache = await listAll((await listener()).token);
    });
    expect(fromCache?.ids).toEqual(fromTable.ids);
    expect(calls.every((call) => call === "GetItemCommand")).toBe(true);
  });
});
