/**
 * Featured playlists as editorial content (CONTRACT: Featured playlists), through the playlists
 * and songs functions' handlers: who may change what, the per-editor quota, deletion and restore,
 * creation order, and the songs they list. MAX_FEATURED_PER_EDITOR is 3 here.
 */
import "./featured-quota-env.ts";
import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { handler as songsHandler } from "../../../functions/songs.ts";
import { handler as usersHandler } from "../../../functions/users.ts";
import { db } from "../../../lib/db/client.ts";
import { COUNTERS_TABLE } from "../../../lib/db/counters/table.ts";
import { FEATURED_TABLE } from "../../../lib/db/featured.ts";
import { PROFILES_TABLE } from "../../../lib/db/profile-item.ts";
import {
  allFeatured,
  createFeatured,
  editor,
  patchFeatured,
  removeFeatured,
  restoreFeatured,
} from "../../helpers/featured.ts";
import { httpEvent, invoke } from "../../helpers/invoke.ts";
import { storeSongs } from "../../helpers/tables.ts";
import { machineTokenFor, tokenFor, uniqueUser } from "../../helpers/tokens.ts";

const MAX = Number(process.env.MAX_FEATURED_PER_EDITOR);

/** A person with the operator permission from Auth0 RBAC, and no editor role. */
async function operator() {
  const sub = uniqueUser();
  return { sub, token: await tokenFor(sub, { permissions: ["update:featured"] }) };
}

const listed = async (token: string, playlistId: string) =>
  (await allFeatured(token)).find((p) => p.playlistId === playlistId);

describe("featured playlists are editorial content", () => {
  it("answer createdBy and updatedBy: the editor who made them, then whoever changed them", async () => {
    const alice = await editor();
    const created = await createFeatured(alice.token, { name: "Alice's picks" });
    expect(created.statusCode).toBe(201);
    expect(created.body).toMatchObject({
      name: "Alice's picks",
      featured: true,
      plays: 0,
      createdBy: alice.sub,
      updatedBy: alice.sub,
    });
    const id = created.body.playlistId;
    const ops = await operator();
    const renamed = await patchFeatured(ops.token, id, { name: "Staff picks" });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.body).toMatchObject({ createdBy: alice.sub, updatedBy: ops.sub });
    expect(await listed(alice.token, id)).toMatchObject({
      name: "Staff picks",
      createdBy: alice.sub,
      updatedBy: ops.sub,
    });
  });

  it("refuse another editor's rename and delete with 403 not_featured_creator, changing nothing", async () => {
    const alice = await editor();
    const bob = await editor();
    const { body: mine } = await createFeatured(alice.token, { name: "Keep me" });
    for (const response of [
      await patchFeatured(bob.token, mine.playlistId, { name: "Bob's now" }),
      await removeFeatured(bob.token, mine.playlistId),
    ]) {
      expect(response.statusCode).toBe(403);
      expect(response.body.errorCode).toBe("not_featured_creator");
      expect(response.body.message).toContain("update:featured");
    }
    expect(await listed(bob.token, mine.playlistId)).toMatchObject({
      name: "Keep me",
      updatedBy: alice.sub,
    });
    // The creator still may.
    expect((await patchFeatured(alice.token, mine.playlistId, { name: "Kept" })).statusCode).toBe(
      200,
    );
  });

  it("let update:featured change and delete any, from a machine's scope or a user's permissions", async () => {
    const alice = await editor();
    const { body: one } = await createFeatured(alice.token, { name: "One" });
    const { body: two } = await createFeatured(alice.token, { name: "Two" });
    const machine = await machineTokenFor("curation", "update:featured");
    const renamed = await patchFeatured(machine, one.playlistId, { name: "One, curated" });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.body.updatedBy).toBe("curation@clients");
    expect((await removeFeatured(machine, one.playlistId)).statusCode).toBe(204);
    expect((await removeFeatured((await operator()).token, two.playlistId)).statusCode).toBe(204);
    expect(await listed(alice.token, one.playlistId)).toBeUndefined();
    expect(await listed(alice.token, two.playlistId)).toBeUndefined();
  });

  it("grant nothing to a user token's scope, nor to a machine without the permission", async () => {
    const alice = await editor();
    const { body: mine } = await createFeatured(alice.token, { name: "Mine" });
    // With RBAC off Auth0 puts any requested permission into scope: it counts for nothing.
    const scoped = await tokenFor(uniqueUser(), { scope: "update:featured" });
    const machine = await machineTokenFor("other", "read:users");
    for (const token of [scoped, machine]) {
      for (const response of [
        await patchFeatured(token, mine.playlistId, { name: "x" }),
        await removeFeatured(token, mine.playlistId),
        await restoreFeatured(token, mine.playlistId),
      ]) {
        expect(response.statusCode).toBe(403);
      }
    }
    // A machine never creates one: a featured playlist's songs are an editor's.
    const made = await createFeatured(await machineTokenFor("curation", "update:featured"), {
      name: "x",
    });
    expect(made.statusCode).toBe(403);
    expect(made.body.errorCode).toBe("user_token_required");
    expect(await listed(alice.token, mine.playlistId)).toMatchObject({ name: "Mine" });
  });
});

describe("an editor whose account is being deleted", () => {
  it("creates no featured playlist: 409 account_being_deleted", async () => {
    const alice = await editor();
    await db.send(
      new UpdateCommand({
        TableName: PROFILES_TABLE,
        Key: { user_id: alice.sub },
        UpdateExpression: "SET deleting = :true",
        ExpressionAttributeValues: { ":true": true },
      }),
    );
    const refused = await createFeatured(alice.token, { name: "Outliving" });
    expect(refused.statusCode).toBe(409);
    expect(refused.body.errorCode).toBe("account_being_deleted");
  });

  it("creates none when the deletion's mark lands between the role check and the write", async () => {
    const alice = await editor();
    // The profile read that found the role came first; the account's mark (on the user
    // counter too, in the same transaction as the profile's) lands before the create's write.
    await db.send(
      new UpdateCommand({
        TableName: COUNTERS_TABLE,
        Key: { user_id: alice.sub, counter_id: "user" },
        UpdateExpression: "SET deleting = :true",
        ExpressionAttributeValues: { ":true": true },
      }),
    );
    const refused = await createFeatured(alice.token, { name: "Raced the erasure" });
    expect(refused.statusCode).toBe(409);
    expect(refused.body.errorCode).toBe("account_being_deleted");
    const everyone = (await operator()).token;
    expect((await allFeatured(everyone)).some((p) => p.createdBy === alice.sub)).toBe(false);
  });
});

describe("MAX_FEATURED_PER_EDITOR", () => {
  it("holds under parallel creates: exactly the quota is made, the rest 409 quota_exceeded", async () => {
    const alice = await editor();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => createFeatured(alice.token, { name: `Parallel ${i}` })),
    );
    const made = results.filter((r) => r.statusCode === 201);
    expect(made).toHaveLength(MAX);
    for (const refused of results.filter((r) => r.statusCode !== 201)) {
      expect(refused.statusCode).toBe(409);
      expect(refused.body.errorCode).toBe("quota_exceeded");
      expect(refused.body.message).toContain("MAX_FEATURED_PER_EDITOR");
    }
    const theirs = (await allFeatured(alice.token)).filter((p) => p.createdBy === alice.sub);
    expect(theirs).toHaveLength(MAX);
    // Another editor's quota is their own; a deletion gives its place back.
    expect((await createFeatured((await editor()).token, { name: "Bob's" })).statusCode).toBe(201);
    expect((await removeFeatured(alice.token, made[0]?.body.playlistId)).statusCode).toBe(204);
    expect((await createFeatured(alice.token, { name: "In its place" })).statusCode).toBe(201);
    expect((await createFeatured(alice.token, { name: "One too many" })).statusCode).toBe(409);
  });
});

describe("a deleted featured playlist", () => {
  it("leaves the list at once, and an operator restores it to its place; the editor may not", async () => {
    const alice = await editor();
    const ids: string[] = [];
    for (const name of ["First", "Second", "Third"]) {
      ids.push((await createFeatured(alice.token, { name })).body.playlistId);
    }
    const [, second] = ids as [string, string, string];
    expect((await removeFeatured(alice.token, second)).statusCode).toBe(204);
    expect(await listed(alice.token, second)).toBeUndefined();
    expect((await patchFeatured(alice.token, second, { name: "x" })).statusCode).toBe(404);
    expect((await removeFeatured(alice.token, second)).statusCode).toBe(404);

    const byEditor = await restoreFeatured(alice.token, second);
    expect(byEditor.statusCode).toBe(403);
    expect(byEditor.body.errorCode).toBe("insufficient_scope");
    expect(await listed(alice.token, second)).toBeUndefined();

    const ops = await operator();
    const restored = await restoreFeatured(ops.token, second);
    expect(restored.statusCode).toBe(200);
    expect(restored.body).toMatchObject({
      playlistId: second,
      name: "Second",
      featured: true,
      createdBy: alice.sub,
      updatedBy: ops.sub,
    });
    const order = (await allFeatured(alice.token))
      .map((p) => p.playlistId as string)
      .filter((id) => ids.includes(id));
    expect(order).toEqual(ids);
    // Restored once: there is nothing deleted to restore any more.
    expect((await restoreFeatured(ops.token, second)).statusCode).toBe(404);
  });

  it("is 404 to restore when unknown, never deleted, or deleted over 30 days ago", async () => {
    const alice = await editor();
    const ops = await operator();
    const { body: live } = await createFeatured(alice.token, { name: "Live" });
    const { body: old } = await createFeatured(alice.token, { name: "Old" });
    expect((await removeFeatured(alice.token, old.playlistId)).statusCode).toBe(204);
    // 30 days and a second later (DynamoDB's TTL may not have removed it yet).
    await db.send(
      new UpdateCommand({
        TableName: FEATURED_TABLE,
        Key: { shelf: "deleted", playlist_id: old.playlistId },
        UpdateExpression: "SET expires_at = :past",
        ExpressionAttributeValues: { ":past": Math.floor(Date.now() / 1000) - 1 },
      }),
    );
    for (const id of ["01ARZ3NDEKTSV4RRFFQ69G5FAV", live.playlistId, old.playlistId]) {
      const response = await restoreFeatured(ops.token, id);
      expect(response.statusCode).toBe(404);
      expect(response.body.errorCode).toBe("playlist_not_found");
    }
    expect(await listed(alice.token, old.playlistId)).toBeUndefined();
  });

  it("counts against its editor's quota again when restored: 409 quota_exceeded when full", async () => {
    const alice = await editor();
    const ops = await operator();
    const { body: gone } = await createFeatured(alice.token, { name: "Gone" });
    expect((await removeFeatured(alice.token, gone.playlistId)).statusCode).toBe(204);
    for (let i = 0; i < MAX; i++) {
      expect((await createFeatured(alice.token, { name: `Full ${i}` })).statusCode).toBe(201);
    }
    const refused = await restoreFeatured(ops.token, gone.playlistId);
    expect(refused.statusCode).toBe(409);
    expect(refused.body.errorCode).toBe("quota_exceeded");
    expect(await listed(alice.token, gone.playlistId)).toBeUndefined();
  });
});

describe("the featured list", () => {
  it("runs in creation order across pages", async () => {
    const editors = [await editor(), await editor()];
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const by = editors[i % 2] as { token: string };
      ids.push((await createFeatured(by.token, { name: `In order ${i}` })).body.playlistId);
    }
    const reader = await tokenFor(uniqueUser());
    for (const limit of [1, 2, 5]) {
      const all = (await allFeatured(reader, limit)).map((p) => p.playlistId as string);
      expect(all.filter((id) => ids.includes(id))).toEqual(ids);
      expect(all).toEqual([...all].sort());
    }
  });
});

describe("a featured playlist's songs", () => {
  const deleteSong = (token: string, songId: string) =>
    invoke(songsHandler, httpEvent("deleteSong", { token, pathParameters: { songId } }));

  it("are songs of its creator, whoever changes it: others' are 400 unknown_song", async () => {
    const alice = await editor();
    const ops = await operator();
    const [hers] = (await storeSongs(alice.sub, 1)) as [string];
    const [opsOwn] = (await storeSongs(ops.sub, 1)) as [string];
    const refused = await createFeatured(alice.token, { name: "Picks", songIds: [opsOwn] });
    expect(refused.statusCode).toBe(400);
    expect(refused.body.errorCode).toBe("unknown_song");
    const { body: picks } = await createFeatured(alice.token, { name: "Picks" });
    const byOps = await patchFeatured(ops.token, picks.playlistId, { songIds: [opsOwn] });
    expect(byOps.statusCode).toBe(400);
    expect(byOps.body.errorCode).toBe("unknown_song");
    const filled = await patchFeatured(ops.token, picks.playlistId, { songIds: [hers] });
    expect(filled.statusCode).toBe(200);
    expect(filled.body.songIds).toEqual([hers]);
  });

  it("lose a song its creator deletes, at once, and a restored one comes back without it", async () => {
    const alice = await editor();
    const ops = await operator();
    const [a, b, c] = (await storeSongs(alice.sub, 3)) as [string, string, string];
    const { body: live } = await createFeatured(alice.token, { name: "Live", songIds: [a, b, c] });
    const { body: trashed } = await createFeatured(alice.token, {
      name: "Trashed",
      songIds: [c, a],
    });
    expect((await removeFeatured(alice.token, trashed.playlistId)).statusCode).toBe(204);
    expect((await deleteSong(alice.token, a)).statusCode).toBe(204);
    expect((await listed(alice.token, live.playlistId))?.songIds).toEqual([b, c]);
    const restored = await restoreFeatured(ops.token, trashed.playlistId);
    expect(restored.statusCode).toBe(200);
    expect(restored.body.songIds).toEqual([c]);
    expect((await listed(alice.token, trashed.playlistId))?.songIds).toEqual([c]);
  });

  it("lose every song of an editor who erases their account; the playlists stay", async () => {
    const alice = await editor();
    const [a, b] = (await storeSongs(alice.sub, 2)) as [string, string];
    const { body: picks } = await createFeatured(alice.token, { name: "Picks", songIds: [a, b] });
    const erased = await invoke(
      usersHandler,
      httpEvent("deleteUser", {
        token: alice.token,
        rawPath: `/users/${encodeURIComponent(alice.sub)}`,
        pathParameters: { userId: alice.sub },
      }),
    );
    expect(erased.statusCode).toBe(204);
    expect(await listed(await tokenFor(uniqueUser()), picks.playlistId)).toMatchObject({
      name: "Picks",
      songIds: [],
      createdBy: alice.sub,
    });
  });
});
