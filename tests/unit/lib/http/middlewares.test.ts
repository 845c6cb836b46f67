import middy from "@middy/core";
import { describe, expect, it } from "vitest";
import { ServiceUnavailableError } from "../../../../lib/errors.ts";
import { noSuchRoute, publicHttpHandler } from "../../../../lib/http/handler.ts";
import { jsonBody, MAX_BODY_BYTES, requestLifecycle } from "../../../../lib/http/middlewares.ts";
import { jsonResponse } from "../../../../lib/http/responses.ts";
import type { HttpContext, HttpEvent, HttpResponse } from "../../../../lib/http/types.ts";
import { stateOf } from "../../../../lib/http/types.ts";
import { httpEvent, lambdaContext } from "../../../helpers/invoke.ts";

/** Each middleware around a trivial handler, as middy tests its own. */
function stack(work: (event: HttpEvent, context: HttpContext) => Promise<HttpResponse>) {
  return middy<HttpEvent, HttpResponse, Error, HttpContext>()
    .use(requestLifecycle())
    .use(jsonBody())
    .handler(work);
}
const echoBody = stack(async (_event, context) => jsonResponse(200, stateOf(context).body ?? null));
const call = async (
  handler: ReturnType<typeof stack>,
  changes: Parameters<typeof httpEvent>[1] = {},
) => {
  const response = await handler(httpEvent("createSong", changes), lambdaContext());
  return { ...response, json: response.body ? JSON.parse(response.body) : undefined };
};

describe("jsonBody", () => {
  it("hands the parsed body to the handler", async () => {
    expect((await call(echoBody, { body: { a: [1, "x"] } })).json).toEqual({ a: [1, "x"] });
  });
  it("decodes a base64 body as API Gateway sends binary-safe ones", async () => {
    const event = httpEvent("createSong", {});
    const response = await echoBody(
      { ...event, body: Buffer.from('{"b":2}').toString("base64"), isBase64Encoded: true },
      lambdaContext(),
    );
    expect(JSON.parse(response.body as string)).toEqual({ b: 2 });
  });
  it("answers 413 over 64 kB, before the handler runs", async () => {
    const response = await call(echoBody, { rawBody: `"${"x".repeat(MAX_BODY_BYTES)}"` });
    expect(response.statusCode).toBe(413);
    expect(response.json.errorCode).toBe("payload_too_large");
  });
  it.each([
    ["malformed JSON", "{", "invalid_json"],
    ["a __proto__ key", '{"__proto__": {"admin": true}}', "invalid_key"],
    ["a lone surrogate", '{"name": "\\ud800"}', "invalid_unicode"],
  ])("answers 400 for %s", async (_case, rawBody, errorCode) => {
    const response = await call(echoBody, { rawBody });
    expect(response.statusCode).toBe(400);
    expect(response.json).toMatchObject({ statusCode: 400, errorCode });
  });
});

describe("jsonBody: the media type of a body", () => {
  let ran = false;
  const spy = stack(async () => {
    ran = true;
    return jsonResponse(200, null);
  });
  const send = (headers: Record<string, string | null>, body: unknown = { songName: "x" }) => {
    ran = false;
    return call(spy, { body, headers: { "content-type": null, ...headers } });
  };

  it.each([
    ["application/json"],
    ["application/json; charset=utf-8"],
    ["Application/JSON; Charset=UTF-8"],
    ['application/json;charset="utf-8"'],
  ])("reads a body sent as %s", async (contentType) => {
    expect((await send({ "content-type": contentType })).statusCode).toBe(200);
    expect(ran).toBe(true);
  });

  it("finds the header whatever its case", async () => {
    expect((await send({ "Content-Type": "application/json" })).statusCode).toBe(200);
  });

  it.each([
    ["curl -d's default", { "content-type": "application/x-www-form-urlencoded" }],
    ["text/plain", { "content-type": "text/plain" }],
    ["two media types", { "content-type": "application/json, text/plain" }],
    ["a JSON suffix type", { "content-type": "application/merge-patch+json" }],
    ["another charset", { "content-type": "application/json; charset=iso-8859-1" }],
    ["no Content-Type", {}],
  ])("answers 415 for %s, before the handler runs", async (_case, headers) => {
    const response = await send(headers);
    expect(response.statusCode).toBe(415);
    expect(response.json).toEqual({
      statusCode: 415,
      error: "Unsupported Media Type",
      message: expect.stringContaining("Content-Type: application/json"),
      errorCode: "unsupported_media_type",
    });
    expect(ran).toBe(false);
  });

  it("says which media type it got, and never echoes junk", async () => {
    const form = await send({ "content-type": "application/x-www-form-urlencoded" });
    expect(form.json.message).toContain("got application/x-www-form-urlencoded");
    expect((await send({})).json.message).toContain("none was sent");
    const junk = await send({ "content-type": "<script>alert(1)</script>" });
    expect(junk.json.message).not.toContain("<script>");
  });

  it("needs no Content-Type on a request without a body", async () => {
    for (const rawBody of [undefined, ""]) {
      ran = false;
      const event = httpEvent("playPlaylist", rawBody === undefined ? {} : { rawBody });
      expect(event.headers["content-type"]).toBeUndefined();
      const response = await spy(event, lambdaContext());
      expect(response.statusCode).toBe(200);
      expect(ran).toBe(true);
    }
  });
});

describe("the handler stack", () => {
  it("answers 503 with Retry-After before the function runs out of time, never a 200", async () => {
    const hanging = publicHttpHandler({
      "GET /openapi.json": () => new Promise<HttpResponse>(() => undefined),
    });
    const context = { ...lambdaContext(), getRemainingTimeInMillis: () => 700 };
    const started = performance.now();
    const response = await hanging(httpEvent("getOpenApiDocument"), context);
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body as string)).toMatchObject({
      statusCode: 503,
      errorCode: "temporarily_unavailable",
    });
    expect(response.headers?.["Retry-After"]).toBe("1");
    // It answers about 500 ms before the end, not when Lambda would stop it.
    expect(performance.now() - started).toBeLessThan(650);
  });

  it("answers a route nothing serves ($default) 404 in the error shape", async () => {
    const response = await publicHttpHandler({ $default: noSuchRoute })(
      httpEvent("unknown-route"),
      lambdaContext(),
    );
    expect(response.statusCode).toBe(404);
    expect(JSON.parse(response.body as string)).toMatchObject({ errorCode: "no_route" });
  });

  it("reads a body an emulator handed over already parsed as the same text", async () => {
    const event = { ...httpEvent("createSong"), body: 0 as unknown as string };
    const response = await echoBody(event, lambdaContext());
    expect(JSON.parse(response.body as string)).toBe(0);
  });
});

describe("requestLifecycle", () => {
  it("answers a 500 that reveals nothing for an unexpected error", async () => {
    const failing = stack(async () => {
      throw new Error("secret internals at /var/task/index.js:1");
    });
    const response = await call(failing);
    expect(response.statusCode).toBe(500);
    expect(response.json).toEqual({
      statusCode: 500,
      error: "Internal Server Error",
      message: "Internal error; the request may be retried",
      errorCode: "internal_error",
    });
    expect(response.body).not.toContain("secret");
  });
  it("answers 503 with Retry-After for DynamoDB's transient faults", async () => {
    const throttled = stack(async () => {
      throw Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" });
    });
    const response = await call(throttled);
    expect(response.statusCode).toBe(503);
    expect(response.headers?.["Retry-After"]).toBe("1");
  });
  it("keeps an HttpError's status and headers", async () => {
    const unavailable = stack(async () => {
      throw new ServiceUnavailableError(7);
    });
    const response = await call(unavailable);
    expect(response.statusCode).toBe(503);
    expect(response.headers?.["Retry-After"]).toBe("7");
  });
  it("answers API Gateway's request id as X-Correlation-Id, keeping a client's well-formed one apart", async () => {
    const clientId = stack(async (_event, context) =>
      jsonResponse(200, { client: stateOf(context).clientCorrelationId ?? null }),
    );
    const requestId = httpEvent("createSong", {}).requestContext.requestId;
    const given = await call(clientId, { headers: { "x-correlation-id": "abc-123" } });
    expect(given.headers?.["X-Correlation-Id"]).toBe(requestId);
    expect(given.json).toEqual({ client: "abc-123" });
    const junk = await call(clientId, { headers: { "x-correlation-id": "a b\nc" } });
    expect(junk.headers?.["X-Correlation-Id"]).toBe(requestId);
    expect(junk.json).toEqual({ client: null });
  });
  it("hands on the header names lower-cased, a name sent in two cases joined", async () => {
    const seen = stack(async (event) => jsonResponse(200, event.headers));
    const response = await call(seen, {
      headers: { "If-Match": '"3"', "X-Client-Note": "k1", "X-Tag": "a", "x-tag": "b" },
    });
    expect(response.json).toMatchObject({ "if-match": '"3"', "x-client-note": "k1" });
    expect(response.json["x-tag"]).toMatch(/^(a,b|b,a)$/);
    expect(Object.keys(response.json).filter((name) => name !== name.toLowerCase())).toEqual([]);
  });
});
