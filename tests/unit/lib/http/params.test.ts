import { describe, expect, it } from "vitest";
import { bearerToken } from "../../../../lib/auth/verify.ts";
import { BadRequestError, NotFoundError, UnauthorizedError } from "../../../../lib/errors.ts";
import { ifMatch } from "../../../../lib/http/etag.ts";
import { idempotencyKey } from "../../../../lib/http/idempotency.ts";
import { SongId } from "../../../../lib/http/params.ts";
import { parse } from "../../../../lib/schemas/index.ts";
import { ListQuery } from "../../../../lib/schemas/lists.ts";
import { httpEvent } from "../../../helpers/invoke.ts";

const withHeaders = (headers: Record<string, string>) => httpEvent("updateUser", { headers });

describe("ifMatch", () => {
  it("is undefined without the header", () => {
    expect(ifMatch(withHeaders({ "if-match": null as unknown as string }))).toBeUndefined();
  });
  it("reads strong ETags and *", () => {
    expect(ifMatch(withHeaders({ "if-match": '"3", "5"' }))).toEqual([3, 5]);
    expect(ifMatch(withHeaders({ "if-match": "*" }))).toBe("*");
  });
  it("never matches a weak tag (strong comparison)", () => {
    expect(ifMatch(withHeaders({ "if-match": 'W/"3"' }))).toEqual([]);
  });
  it("reads a tag this API never issued as well-formed, matching nothing (the caller's 412)", () => {
    expect(ifMatch(withHeaders({ "if-match": '"wrong"' }))).toEqual([]);
    // A comma inside the quotes belongs to the tag (RFC 9110 etagc).
    expect(ifMatch(withHeaders({ "if-match": '"a,b", "7",' }))).toEqual([7]);
  });
  it("answers 400 for a malformed header", () => {
    for (const header of ["3", "wrong", '"3" "4"', '"3', ",", "W/3", '"a"b'])
      expect(() => ifMatch(withHeaders({ "if-match": header })), header).toThrow(BadRequestError);
  });
});

describe("path ids, list queries and keys", () => {
  it("refuses with 404 an id this API could not have issued", () => {
    expect(SongId.schema["~standard"].validate("not-a-ulid")).toHaveProperty("issues");
    expect(SongId.refusal()).toBeInstanceOf(NotFoundError);
    expect(SongId.schema["~standard"].validate("01JD0000000000000000000SNG")).toEqual({
      value: "01JD0000000000000000000SNG",
    });
  });
  it("defaults the page size to 50 and refuses 0 and 101", () => {
    expect(parse(ListQuery, {}, "Query").limit).toBe(50);
    expect(parse(ListQuery, { limit: "100" }, "Query").limit).toBe(100);
    for (const limit of ["0", "101", "ten", "-1"]) {
      expect(() => parse(ListQuery, { limit }, "Query")).toThrow(BadRequestError);
    }
  });
  it("takes 1 to 255 visible ASCII characters as an Idempotency-Key", () => {
    const keyed = (key: string) => httpEvent("createSong", { headers: { "idempotency-key": key } });
    expect(idempotencyKey(keyed("a-1_B"))).toBe("a-1_B");
    for (const bad of ["has space", "x".repeat(256), "é"]) {
      expect(() => idempotencyKey(keyed(bad))).toThrow(BadRequestError);
    }
  });
});

describe("bearerToken", () => {
  it("answers 401 missing_token with a bare challenge when there is no header", () => {
    try {
      bearerToken(undefined);
      expect.unreachable();
    } catch (error) {
      expect((error as UnauthorizedError).errorCode).toBe("missing_token");
      expect((error as UnauthorizedError).headers["WWW-Authenticate"]).toBe(
        'Bearer realm="music-api"',
      );
    }
  });
  it("answers 401 invalid_token for anything but Bearer <JWT>", () => {
    for (const header of ["Basic abc", "Bearer", "Bearer not-a-jwt"]) {
      expect(() => bearerToken(header)).toThrow(UnauthorizedError);
    }
    expect(bearerToken("Bearer a.b.c")).toBe("a.b.c");
  });
});
