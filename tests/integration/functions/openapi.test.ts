/**
 * The public function in process, as the other functions' tests run theirs: its two routes
 * answer without a token, and what no route serves is 404 no_route in the error shape.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { handler } from "../../../functions/openapi.ts";
import { ROOT } from "../../../scripts/local/serverless-config.ts";
import { httpEvent, invoke } from "../../helpers/invoke.ts";

describe("the openapi function", () => {
  it("serves the committed document without a token", async () => {
    const response = await invoke(handler, httpEvent("getOpenApiDocument", { token: null }));
    expect(response.statusCode).toBe(200);
    const committed = JSON.parse(readFileSync(join(ROOT, "docs", "openapi.json"), "utf8"));
    expect(response.body).toEqual(committed);
  });

  it("answers GET /health without a token", async () => {
    const response = await invoke(handler, httpEvent("getHealth", { token: null }));
    expect(response.statusCode).toBe(200);
    expect(response.body).toEqual({ status: "ok" });
  });

  it("answers what no route serves 404 no_route", async () => {
    const response = await invoke(handler, httpEvent("unknown-route", { token: null }));
    expect(response.statusCode).toBe(404);
    expect(response.body).toMatchObject({ statusCode: 404, errorCode: "no_route" });
  });
});
