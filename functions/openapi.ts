import { DEFAULT_ROUTE, noSuchRoute, publicHttpHandler } from "../lib/http/handler.ts";
import { jsonResponse } from "../lib/http/responses.ts";
import { openApiDocument } from "../lib/openapi.ts";

// Built once per container: the document only changes with a deployment.
const document = openApiDocument();

export const handler = publicHttpHandler({
  "GET /openapi.json": async () =>
    jsonResponse(200, document, { "Cache-Control": "public, max-age=300" }),
  [DEFAULT_ROUTE]: noSuchRoute,
});
