/**
 * Validation through the Standard Schema interface every zod/mini schema carries, so that the
 * route module (lib/http/route.ts) needs no zod of its own: a function whose routes read no
 * body or query (getPlays, openapi) loads no request schemas at cold start. The 400's message
 * names every problem found.
 */
import { BadRequestError } from "./errors.ts";

interface Issue {
  code?: string;
  keys?: string[];
  message: string;
  path?: readonly PropertyKey[];
}

/** What validating needs of a schema: its Standard Schema side, synchronous here. */
interface Validates<T> {
  "~standard": {
    validate: (input: unknown) => { value: T; issues?: undefined } | { issues: readonly Issue[] };
  };
}

function describe(issue: Issue, what: string): string {
  const path = issue.path ?? [];
  if (issue.code === "unrecognized_keys" && issue.keys) {
    return `Unknown field${issue.keys.length > 1 ? "s" : ""}: ${issue.keys.join(", ")}`;
  }
  const where = path.length ? path.map(String).join(".") : what;
  // Custom messages already name the field; zod's defaults get the field's path in front.
  return issue.message.startsWith(String(path.at(-1) ?? "\0"))
    ? issue.message
    : `${where}: ${issue.message}`;
}

/**
 * Validates input against a schema; the 400 (errorCode `code`: invalid_body for a body,
 * invalid_query for a query) names every problem found, each once.
 */
export function validate<T>(
  schema: Validates<T>,
  input: unknown,
  what = "Request body",
  code: "invalid_body" | "invalid_query" = "invalid_body",
): T {
  if (input === undefined) throw new BadRequestError(`${what} is required`, code);
  const result = schema["~standard"].validate(input);
  if (!result.issues) return result.value;
  const problems = new Set(result.issues.map((issue) => describe(issue, what)));
  throw new BadRequestError([...problems].join("; "), code);
}
