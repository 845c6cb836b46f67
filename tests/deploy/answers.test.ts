/**
 * Answers proven by the document, as IAM is by the calls (tests/deploy/iam.test.ts, the same
 * project, after every other suite): while the other suites run, each answer a function gives
 * is recorded (route key, status, errorCode; lib/call-log.ts), in process and under
 * `npm start`. Here every recorded answer must be one docs/openapi.json lists for its route:
 * the status among the operation's responses, and an error's code in that status's errorCode
 * enum. A code a handler throws that its declaration does not list fails here, naming it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../scripts/local/serverless-config.ts";
import { recordedAnswers } from "../helpers/call-log.ts";

interface Response {
  content?: {
    "application/json"?: {
      schema?: { allOf?: { properties?: { errorCode?: { enum?: string[] } } }[] };
    };
  };
}
const document = JSON.parse(readFileSync(join(ROOT, "docs", "openapi.json"), "utf8")) as {
  paths: Record<string, Record<string, { responses: Record<string, Response> }>>;
};

/** Each documented route key's answers: its statuses, and each error status's codes. */
function documented(): Map<string, Map<number, Set<string>>> {
  const routes = new Map<string, Map<number, Set<string>>>();
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const [method, { responses }] of Object.entries(operations)) {
      const statuses = new Map<number, Set<string>>();
      for (const [status, response] of Object.entries(responses)) {
        const narrowing = response.content?.["application/json"]?.schema?.allOf ?? [];
        const codes = narrowing.flatMap((part) => part.properties?.errorCode?.enum ?? []);
        statuses.set(Number(status), new Set(codes));
      }
      routes.set(`${method.toUpperCase()} ${path}`, statuses);
    }
  }
  return routes;
}

/** Why the document does not allow an answer; undefined when it does. */
function undocumented(
  routes: Map<string, Map<number, Set<string>>>,
  answer: { route: string; status: number; errorCode?: string },
): string | undefined {
  const statuses = routes.get(answer.route);
  // What no route serves ($default, or a route key API Gateway would never send) is 404 no_route.
  if (!statuses) {
    return answer.status === 404 && answer.errorCode === "no_route" ? undefined : "no such route";
  }
  const codes = statuses.get(answer.status);
  if (!codes) return "status not documented";
  if (answer.status < 400) return undefined;
  return answer.errorCode !== undefined && codes.has(answer.errorCode)
    ? undefined
    : "errorCode not documented for this status";
}

describe("every answer the suite saw is one the document lists for its route", () => {
  const answers = recordedAnswers();

  it("has a record of the answers", () => {
    expect(answers.length).toBeGreaterThan(0);
  });

  it("documents every recorded status and errorCode", () => {
    const routes = documented();
    const missing = answers
      .map((answer) => ({ answer, why: undocumented(routes, answer) }))
      .filter(({ why }) => why !== undefined)
      .map(({ answer, why }) => `${answer.route} → ${answer.status} ${answer.errorCode}: ${why}`)
      .sort();
    // Each entry: add the code to the route's declaration (`errors`), or fix what threw it.
    expect(missing).toEqual([]);
  });
});
