import { afterEach, describe, expect, it, vi } from "vitest";
import * as z from "zod/mini";
import type { Caller } from "../../../../lib/auth/verify.ts";
import { BadRequestError, ForbiddenError, NotFoundError } from "../../../../lib/errors.ts";
import { SongId, UserId } from "../../../../lib/http/params.ts";
import { answered, defineRoute } from "../../../../lib/http/route.ts";
import { Cursor } from "../../../../lib/schemas/lists.ts";
import { httpEvent } from "../../../helpers/invoke.ts";

/**
 * The parts a declaration names reach its handler parsed, by name, and only when it reads them:
 * the user id of GET /users/{userId}/export is the segment at {userId}'s place, not the last
 * one ("export"), and a permission checked before the query still answers first.
 */
const caller: Caller = { sub: "auth0|a", machine: false, permissions: new Set(), issuedAt: 0 };

const exportRoute = (check: (userId: string) => void) =>
  defineRoute({
    key: "GET /users/{userId}/export",
    id: "exportUser",
    tag: "users",
    summary: "",
    description: "",
    caller: "person-or-machine",
    params: { userId: UserId },
    query: z.object({ cursor: Cursor }),
    responses: { 200: { schema: undefined } },
    handler: (request) => {
      check(request.params.userId);
      return request.respond(200, undefined, { "X-User": request.params.userId });
    },
  });

const exportEvent = (rawPath: string, query: Record<string, string> = {}) =>
  httpEvent("exportUser", { rawPath, query });

describe("defineRoute's parts", () => {
  it("reads a path parameter by name, decoded once, wherever it stands", async () => {
    const route = exportRoute(() => undefined);
    for (const rawPath of [
      "/users/google-oauth2%7C123/export",
      "/dev/users/google-oauth2%7C123/export",
    ]) {
      const response = await route.handle({
        event: exportEvent(rawPath),
        caller,
        body: undefined,
        correlationId: "c",
      });
      expect(response.headers?.["X-User"]).toBe("google-oauth2|123");
    }
  });

  it("refuses a malformed one with the parameter's own error", async () => {
    const route = exportRoute(() => undefined);
    await expect(
      route.handle({
        event: exportEvent("/users/%E0%A4%A/export"),
        caller,
        body: undefined,
        correlationId: "c",
      }),
    ).rejects.toThrow(BadRequestError);
    expect(SongId.refusal()).toBeInstanceOf(NotFoundError);
  });

  it("parses the query only when the handler reads it: a refused permission answers first", async () => {
    const route = exportRoute(() => {
      throw new ForbiddenError("not yours");
    });
    const event = exportEvent("/users/auth0%7Cb/export", { cursor: "x".repeat(3000) });
    await expect(
      route.handle({ event, caller, body: undefined, correlationId: "c" }),
    ).rejects.toThrow(ForbiddenError);
  });
});

describe("a declared metric (counts)", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** A route that counts "Tried" and answers `status`, or throws instead. */
  const counting = (answer: () => number) =>
    defineRoute({
      key: "POST /tries",
      id: "tryIt",
      tag: "meta",
      summary: "",
      description: "",
      caller: "person",
      responses: { 200: {}, 204: {} },
      counts: "Tried",
      handler: ({ respond }) => {
        const status = answer();
        if (status === 200) return answered({ statusCode: 200, body: "{}" });
        return respond(204, undefined);
      },
    });

  async function countedBy(route: ReturnType<typeof counting>): Promise<number[]> {
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => {
      lines.push(String(line));
    });
    const event = exportEvent("/tries");
    await route.handle({ event, caller, body: undefined, correlationId: "c" }).catch(() => {});
    return lines
      .map((line) => JSON.parse(line) as { Tried?: number; _aws: unknown })
      .filter((metric) => metric._aws && metric.Tried !== undefined)
      .map((metric) => metric.Tried as number);
  }

  it("is counted once for each 2xx the route answers, an answer made ahead (answered) too", async () => {
    expect(await countedBy(counting(() => 204))).toEqual([1]);
    expect(await countedBy(counting(() => 200))).toEqual([1]);
  });

  it("is not counted when the route refuses", async () => {
    const refusing = counting(() => {
      throw new ForbiddenError("not yours");
    });
    expect(await countedBy(refusing)).toEqual([]);
  });
});
