import { publicHttpHandler } from "../lib/http/handler.ts";
import { jsonResponse } from "../lib/http/middleware.ts";
import { openApiDocument } from "../lib/openapi.ts";

// Built once per container: the document only changes with a deployment.
const document = openApiDocument();

export const handler = publicHttpHandler(async () =>
  jsonResponse(200, document, { "Cache-Control": "public, max-age=300" }),
);
