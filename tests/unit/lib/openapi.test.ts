import { describe, expect, it } from "vitest";
import { openApiDocument as fromRoutes } from "../../../lib/http/openapi.ts";
import { declaredRoutes } from "../../../scripts/local/routes.ts";
import { loadHttpRoutes } from "../../../scripts/local/serverless-config.ts";

const declared = Object.values(await declaredRoutes()).flat();
const openApiDocument = () => fromRoutes(declared);

describe("the OpenAPI document", () => {
  const routes = Object.values(loadHttpRoutes())
    .flat()
    .filter((route) => route !== "$default");

  it("is OpenAPI 3.1 with every path and method", () => {
    const document = openApiDocument();
    expect(document.openapi).toBe("3.1.0");
    const documented = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual([...routes].sort());
  });

  it("carries the request limits from the validating schemas", () => {
    const songPost = openApiDocument().paths["/songs"]?.post as {
      requestBody: {
        content: {
          "application/json": { schema: { properties: Record<string, { maxLength: number }> } };
        };
      };
    };
    const schema = songPost.requestBody.content["application/json"].schema;
    expect(schema.properties.songName?.maxLength).toBe(200);
    expect(schema.properties.genre?.maxLength).toBe(64);
  });

  it("marks only /openapi.json and /health as public", () => {
    const document = openApiDocument();
    const publicOps = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods)
        .filter(([, op]) => Array.isArray((op as { security?: unknown[] }).security))
        .map(([method]) => `${method} ${path}`),
    );
    expect(publicOps.sort()).toEqual(["get /health", "get /openapi.json"]);
  });

  it("tells a route that reads no body from one that does in its 415", () => {
    const paths = openApiDocument().paths as Record<
      string,
      Record<string, { responses: Record<string, { description: string }> }>
    >;
    const play =
      paths["/playlists/featured/{playlistId}/restore"]?.post?.responses["415"]?.description;
    const create = paths["/songs"]?.post?.responses["415"]?.description;
    expect(play).toMatch(/needs no body/);
    expect(create).toMatch(/unsupported_media_type/);
    expect(create).not.toMatch(/needs no body/);
  });
});
