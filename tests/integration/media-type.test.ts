import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { LambdaHandler } from "../../lib/http/handler.ts";
import { declaredRoutes } from "../../scripts/local/routes.ts";
import { loadHttpRoutes, ROOT } from "../../scripts/local/serverless-config.ts";
import { dynamoCallsOf } from "../helpers/calls.ts";
import { httpEvent, invoke } from "../helpers/invoke.ts";
import { tokenFor, uniqueUser } from "../helpers/tokens.ts";

/**
 * A request body is JSON sent as `Content-Type: application/json`; any other media type, or
 * none, is 415 unsupported_media_type on every route that reads a body, before anything is read
 * or written. A request without a body (a play) needs no Content-Type; a direct invocation of
 * postLogin, which has no headers, is held to nothing of this (tests/integration/functions).
 */
const functionOf = new Map(
  Object.entries(loadHttpRoutes()).flatMap(([fn, routes]) => routes.map((r) => [r, fn])),
);
const fixtureOf = new Map(
  readdirSync(join(ROOT, "events"))
    .map((file) => {
      const event = JSON.parse(readFileSync(join(ROOT, "events", file), "utf8"));
      return [event.routeKey as string | undefined, file.replace(/\.json$/, "")] as const;
    })
    .filter(([routeKey]) => routeKey !== undefined),
);
const declared = Object.values(await declaredRoutes()).flat();
const bodyRoutes = declared.filter((route) => route.body !== undefined).map((route) => route.key);
/** Routes whose sample event carries a body (a play's is optional: its sample sends none). */
const sampleBodyRoutes = declared
  .filter((route) => route.body !== undefined && !route.bodyOptional)
  .map((route) => route.key);

async function handlerOf(routeKey: string): Promise<LambdaHandler> {
  const module = (await import(`../../functions/${functionOf.get(routeKey)}.ts`)) as {
    handler: LambdaHandler;
  };
  return module.handler;
}

describe("request bodies are application/json", () => {
  it("covers every route the brief names", () => {
    expect(bodyRoutes.sort()).toEqual(
      [
        "PUT /displayName",
        "PUT /genres/fav",
        "POST /songs",
        "POST /playlists",
        "PATCH /playlists/{playlistId}",
        "POST /playlists/featured",
        "PATCH /playlists/featured/{playlistId}",
        "PATCH /users/{userId}",
        "POST /hooks/post-login",
        "POST /playlists/{playlistId}/plays",
        "POST /sync",
      ].sort(),
    );
  });

  describe.each(sampleBodyRoutes)("%s", (routeKey) => {
    it.each([
      ["a form (curl -d's default)", "application/x-www-form-urlencoded"],
      ["text/plain", "text/plain"],
      ["no Content-Type", null],
    ])("answers %s with 415, reading and writing nothing", async (_case, contentType) => {
      const handler = await handlerOf(routeKey);
      const fixture = fixtureOf.get(routeKey) as string;
      const event = httpEvent(fixture, {
        token: await tokenFor(uniqueUser()),
        headers: { "content-type": contentType },
      });
      expect(event.body).toBeTruthy();
      let response: Awaited<ReturnType<typeof invoke>> | undefined;
      const calls = await dynamoCallsOf(async () => {
        response = await invoke(handler, event);
      });
      expect(response?.statusCode).toBe(415);
      expect(response?.body).toEqual({
        statusCode: 415,
        error: "Unsupported Media Type",
        message: expect.stringContaining("Content-Type: application/json"),
        errorCode: "unsupported_media_type",
      });
      expect(calls).toEqual([]);
    });
  });

  it("counts a play sent with no body and no Content-Type", async () => {
    const token = await tokenFor(uniqueUser());
    const playlists = await handlerOf("POST /playlists");
    const created = await invoke(
      playlists,
      httpEvent("createPlaylist", {
        token,
        body: { name: "No body" },
        headers: { "idempotency-key": null, "content-type": "Application/JSON; charset=UTF-8" },
      }),
    );
    expect(created.statusCode).toBe(201);
    const event = httpEvent("playPlaylist", {
      token,
      pathParameters: { playlistId: created.body.playlistId },
    });
    expect(event.body).toBeUndefined();
    expect(event.headers["content-type"]).toBeUndefined();
    const played = await invoke(playlists, event);
    expect(played.statusCode).toBe(200);
    expect(played.body.plays).toBe(1);
  });
});
