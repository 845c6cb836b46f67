import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { ROOT } from "../../scripts/local/serverless-config.ts";

/**
 * Every response the end-to-end suites get over HTTP is held to the OpenAPI document: its status
 * is documented for that operation, its JSON body validates against the documented schema
 * (JSON Schema 2020-12, ajv; an error's errorCode among the codes its status lists for that
 * route), and the headers the document marks required are there. An undocumented status, field,
 * errorCode or header fails the test that made the call.
 */
type Json = Record<string, unknown>;
// The document as served: generated from the declarations (npm run check fails on drift).
const document = JSON.parse(readFileSync(join(ROOT, "docs", "openapi.json"), "utf8")) as {
  paths: Record<string, Record<string, Json>>;
  components: { schemas: Record<string, Json> };
};
const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addSchema({ $id: "openapi", components: document.components }, "openapi");

// Literal segments first: /playlists/featured and /playlists/getPlays before /playlists/{id}.
const templates = Object.keys(document.paths)
  .map((template) => ({
    template,
    params: (template.match(/\{/g) ?? []).length,
    pattern: new RegExp(`^${template.replace(/\{\w+\}/g, "[^/]+")}$`),
  }))
  .sort((a, b) => a.params - b.params);

const templateOf = (path: string) => templates.find(({ pattern }) => pattern.test(path));

function operationOf(method: string, path: string): Json | undefined {
  const found = templateOf(path);
  return found ? document.paths[found.template]?.[method.toLowerCase()] : undefined;
}

/** The documented path template a concrete path matches, with its path parameters. */
export function routeOf(
  method: string,
  path: string,
): { template: string; params: Record<string, string> } | undefined {
  const found = templateOf(path);
  if (!found || !document.paths[found.template]?.[method.toLowerCase()]) return undefined;
  const names = [...found.template.matchAll(/\{(\w+)\}/g)].map(([, name]) => name as string);
  const values = path.split("/");
  const params: Record<string, string> = {};
  try {
    found.template.split("/").forEach((segment, i) => {
      const name = /^\{(\w+)\}$/.exec(segment)?.[1];
      if (name && names.includes(name)) params[name] = decodeURIComponent(values[i] ?? "");
    });
  } catch {
    return undefined; // malformed percent-encoding: no client would send it
  }
  return { template: found.template, params };
}

const validators = new Map<object, ReturnType<typeof ajv.compile>>();
function validatorOf(schema: Json) {
  let validate = validators.get(schema);
  if (!validate) {
    // Local $refs point into the document's components.
    const rebased = JSON.parse(
      JSON.stringify(schema).replaceAll('"#/components/', '"openapi#/components/'),
    );
    validate = ajv.compile(rebased);
    validators.set(schema, validate);
  }
  return validate;
}

/** Throws, saying what differs, when a response is not what the document says. */
export function checkAgainstContract(
  method: string,
  url: string,
  status: number,
  headers: Headers,
  bodyText: string,
): void {
  const path = new URL(url).pathname;
  const where = `${method} ${path} → ${status}`;
  const operation = operationOf(method, path);
  if (!operation) {
    // Only API Gateway's $default answers a route the document does not have: a 404.
    if (status !== 404) throw new Error(`${where}: no such operation in the OpenAPI document`);
    return;
  }
  const responses = operation.responses as Record<string, Json>;
  const response = responses[String(status)];
  if (!response) throw new Error(`${where}: status not documented for this operation`);
  for (const [name, header] of Object.entries((response.headers ?? {}) as Record<string, Json>)) {
    if (header.required && !headers.has(name)) {
      throw new Error(`${where}: documented header ${name} is missing`);
    }
  }
  const schema = (response.content as Record<string, { schema: Json }> | undefined)?.[
    "application/json"
  ]?.schema;
  if (!schema) {
    if (bodyText !== "") throw new Error(`${where}: a body where the document has none`);
    return;
  }
  const validate = validatorOf(schema);
  if (!validate(JSON.parse(bodyText))) {
    throw new Error(`${where}: body breaks the document: ${ajv.errorsText(validate.errors)}`);
  }
}
