import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { handler } from "../../../functions/postLogin.ts";
import { db, dynamodb } from "../../../lib/db/client.ts";
import { PROFILES_TABLE } from "../../../lib/db/profile-item.ts";
import { getProfile } from "../../../lib/db/profiles.ts";
import { dynamoCallsOf } from "../../helpers/calls.ts";
import { asFunction, httpEvent, invoke, lambdaContext, loadEvent } from "../../helpers/invoke.ts";
import { storeProfile } from "../../helpers/profiles.ts";
import { machineTokenFor, tokenFor, uniqueUser } from "../../helpers/tokens.ts";

const ROLES = "https://music.example.com/roles";

/** An Auth0 post-login event from events/, for a fresh user id so tests never share a profile. */
function auth0Event(name: string, userId = uniqueUser("google-oauth2")) {
  const event = loadEvent(`postLogin-${name}`) as unknown as { user: { user_id: string } };
  return { ...event, user: { ...event.user, user_id: userId } };
}

// biome-ignore lint/suspicious/noExplicitAny: the hook's answer or its error object, read by assertions.
const direct = async (event: unknown): Promise<any> =>
  asFunction("postLogin", () => handler(event, lambdaContext()));

describe("postLogin, invoked directly with Auth0's event", () => {
  it("creates the profile on first login with the default display name and no roles", async () => {
    const event = auth0Event("first-login");
    const result = await direct(event);
    expect(result).toEqual({
      user_metadata: { displayName: "user" },
      app_metadata: {},
      claims: { [ROLES]: [] },
      migration: { moved: [], skipped: [] },
    });
    expect((await getProfile(event.user.user_id))?.userMetadata).toEqual({ displayName: "user" });
  });

  it("trusts the stored profile, not the metadata the event carries", async () => {
    const event = auth0Event("demoted-editor");
    // The event claims playlist_editor; nothing is stored, so the user is not one.
    const result = await direct(event);
    expect(result).toMatchObject({ app_metadata: {}, claims: { [ROLES]: [] } });
  });

  it("grants playlist_editor at 100 plays and keeps the other roles", async () => {
    const event = auth0Event("editor");
    await storeProfile(event.user.user_id, {
      user_metadata: { displayName: "DJ Edit" },
      app_metadata: { plan: "premium", roles: ["beta_tester"] },
      total_plays: 100,
    });
    const result = await direct(event);
    expect(result).toEqual({
      user_metadata: { displayName: "DJ Edit" },
      app_metadata: { plan: "premium", roles: ["beta_tester", "playlist_editor"] },
      claims: { [ROLES]: ["beta_tester", "playlist_editor"] },
      migration: { moved: [], skipped: [] },
    });
  });

  it("removes only playlist_editor from a demoted editor", async () => {
    const event = auth0Event("demoted-editor");
    await storeProfile(event.user.user_id, {
      user_metadata: { displayName: "Was Editor" },
      app_metadata: { roles: ["playlist_editor", "beta_tester"] },
      total_plays: 99,
    });
    const result = await direct(event);
    expect(result.app_metadata.roles).toEqual(["beta_tester"]);
    expect((await getProfile(event.user.user_id))?.appMetadata.roles).toEqual(["beta_tester"]);
  });

  it("is idempotent: a second run answers the same and writes nothing", async () => {
    const event = auth0Event("returning-user");
    await storeProfile(event.user.user_id, { total_plays: 150 });
    const first = await direct(event);
    const versionAfterFirst = (await getProfile(event.user.user_id))?.version;
    let second: unknown;
    const calls = await dynamoCallsOf(async () => {
      second = await direct(event);
    });
    expect(second).toEqual(first);
    // One consistent BatchGetItem: the profile and the user's play total.
    expect(calls).toEqual(["BatchGetItemCommand"]);
    expect((await getProfile(event.user.user_id))?.version).toBe(versionAfterFirst);
  });

  it("makes one read and one conditional write when something changes", async () => {
    const calls = await dynamoCallsOf(() => direct(auth0Event("first-login")));
    expect(calls).toEqual(["BatchGetItemCommand", "UpdateItemCommand"]);
  });

  it("cannot duplicate or lose a role under 10 concurrent logins", async () => {
    const event = auth0Event("editor");
    await storeProfile(event.user.user_id, {
      app_metadata: { roles: ["beta_tester"] },
      total_plays: 120,
    });
    const results = await Promise.all(Array.from({ length: 10 }, () => direct(event)));
    for (const result of results) {
      expect(result).toMatchObject({ claims: { [ROLES]: ["beta_tester", "playlist_editor"] } });
    }
    expect((await getProfile(event.user.user_id))?.appMetadata.roles).toEqual([
      "beta_tester",
      "playlist_editor",
    ]);
  });

  it("recomputes from the stored profile the refusal answers, keeping the other write that landed between its read and its write", async () => {
    const event = auth0Event("editor");
    const userId = event.user.user_id;
    await storeProfile(userId, { app_metadata: { roles: ["beta_tester"] }, total_plays: 120 });
    // Right after the hook's first read, an operator's write lands (a new plan, a new version).
    let raced = false;
    dynamodb.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (!raced && context.commandName === "BatchGetItemCommand") {
          raced = true;
          await db.send(
            new UpdateCommand({
              TableName: PROFILES_TABLE,
              Key: { user_id: userId },
              UpdateExpression: "SET app_metadata.#plan = :plan, version = version + :one",
              ExpressionAttributeNames: { "#plan": "plan" },
              ExpressionAttributeValues: { ":plan": "premium", ":one": 1 },
            }),
          );
        }
        return result;
      },
      { step: "initialize", name: "raceAfterRead" },
    );
    try {
      const calls = await dynamoCallsOf(() => direct(event));
      // The operator's write, then the hook's conditional write fails, answering the stored
      // profile (ALL_OLD): it recomputes from that and writes, with no read again.
      expect(calls).toEqual([
        "BatchGetItemCommand",
        "UpdateItemCommand",
        "UpdateItemCommand",
        "UpdateItemCommand",
      ]);
    } finally {
      dynamodb.middlewareStack.remove("raceAfterRead");
    }
    expect((await getProfile(userId))?.appMetadata).toEqual({
      roles: ["beta_tester", "playlist_editor"],
      plan: "premium",
    });
  });

  it.each([
    ["no user", { transaction: {} }],
    ["an empty user_id", { user: { user_id: "" } }],
    ["a numeric user_id", { user: { user_id: 42 } }],
    ["not an object", "login"],
    ["a __proto__ key", JSON.parse('{"user": {"user_id": "auth0|p", "__proto__": {"x": 1}}}')],
  ])(
    "answers HTTP's 400 object for a malformed event (%s), never throwing",
    async (_case, event) => {
      const answer = await direct(event);
      expect(answer).toEqual({
        statusCode: 400,
        error: "Bad Request",
        message: expect.stringMatching(/post-login event|user_id|user|__proto__/),
        errorCode: expect.any(String),
      });
      expect(await getProfile("auth0|p")).toBeUndefined();
    },
  );
});

describe("postLogin over HTTP", () => {
  const post = (token: string, body: unknown) =>
    invoke(handler, httpEvent("runPostLogin", { token, body }));

  it("answers a caller with run:post_login", async () => {
    const event = auth0Event("first-login");
    const token = await machineTokenFor("m2m-client", "run:post_login");
    const response = await post(token, event);
    expect(response.statusCode).toBe(200);
    expect(response.body).toEqual({
      user_metadata: { displayName: "user" },
      app_metadata: {},
      claims: { [ROLES]: [] },
      migration: { moved: [], skipped: [] },
    });
  });

  it("refuses a token without run:post_login with 403, writing nothing", async () => {
    const event = auth0Event("first-login");
    const response = await post(await tokenFor(event.user.user_id), event);
    expect(response.statusCode).toBe(403);
    expect(await getProfile(event.user.user_id)).toBeUndefined();
  });

  it("answers a malformed event with 400", async () => {
    const token = await machineTokenFor("m2m-client", "run:post_login");
    const response = await post(token, { user: {} });
    expect(response.statusCode).toBe(400);
    expect(response.body.message).toContain("user_id");
  });
});
