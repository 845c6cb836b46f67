import { DEFAULT_ROUTE, noSuchRoute, publicHttpHandler } from "../lib/http/handler.ts";
import { jsonResponse } from "../lib/http/responses.ts";
import { openApiDocument } from "../lib/openapi.ts";

// Built once per container: the document only changes with a deployment.
const document = openApiDocument();

export const handler = publicHttpHandler({
  "GET /openapi.json": async () =>
    jsonResponse(200, document, { "Cache-Control": "public, max-age=300" }),
  // For load balancers and the app's "starting" state: the function answers, nothing is read
  // (this function may touch no table), so it says that the API is up, not that DynamoDB is.
  "GET /health": async () => jsonResponse(200, { status: "ok" }, { "Cache-Control": "no-store" }),
  [DEFAULT_ROUTE]: noSuchRoute,
});
