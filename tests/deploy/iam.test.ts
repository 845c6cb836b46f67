import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadHttpRoutes, loadTableDefinitions } from "../../scripts/local/serverless-config.ts";
import { CALL_LOG_DIR, recordedAnswers } from "../helpers/call-log.ts";
import {
  dynamoGrants,
  FUNCTIONS,
  packageProd,
  roleOf,
  type Template,
} from "../helpers/template.ts";

/**
 * IAM proven by the calls. While the other suites run (this one runs after them: vitest.config.ts),
 * every DynamoDB request each function sends, and each SSM secret it reads, is recorded as IAM
 * evaluates it (lib/instrumentation/call-log.ts): in process for the integration tests, under `npm start` for
 * the end-to-end ones. Here the
 * record meets the packaged prod template: every recorded (function, action, table) must be
 * allowed by that function's role, and every action a role allows must have been used. A role
 * is proven only by the routes that ran: every declared route must have answered a 2xx
 * (recorded with the answers, lib/call-log.ts) in some test.
 */
let template: Template;
let recorded: Set<string>;

/** Table names as tests and npm start create them, to the logical ids of serverless.yml. */
function tableIds(): Map<string, string> {
  return new Map(
    loadTableDefinitions("dev").flatMap((d) => [
      [d.properties.TableName, d.logicalId],
      [`test-${d.logicalId}`, d.logicalId],
    ]),
  );
}

beforeAll(async () => {
  ({ template } = await packageProd());
  const ids = tableIds();
  const files = readdirSync(CALL_LOG_DIR).filter((file) => file.endsWith(".jsonl"));
  recorded = new Set(
    files.flatMap((file) =>
      readFileSync(join(CALL_LOG_DIR, file), "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => {
          const call = JSON.parse(line) as { function: string; action: string; table: string };
          const [table = call.table, index] = call.table.split("/index/");
          const id = ids.get(table) ?? table;
          return `${call.function}: ${call.action} on ${index ? `${id}/index/${index}` : id}`;
        }),
    ),
  );
}, 180_000);

function granted(): Set<string> {
  return new Set(
    FUNCTIONS.flatMap((fn) =>
      Object.entries(dynamoGrants(template, roleOf(template, fn))).flatMap(([table, actions]) =>
        actions.map((action) => `${fn}: ${action} on ${table}`),
      ),
    ),
  );
}

describe("each function's role allows exactly what its code sends", () => {
  it("has a record of the calls of every function that touches a table", () => {
    const functions = new Set([...recorded].map((call) => call.split(":")[0]));
    expect([...functions].sort()).toEqual(FUNCTIONS.filter((fn) => fn !== "openapi").sort());
  });

  it("allows every call a function made", () => {
    const allowed = granted();
    const denied = [...recorded].filter((call) => !allowed.has(call)).sort();
    // Each entry would be an AccessDenied in production.
    expect(denied).toEqual([]);
  });

  it("has a test that runs every declared route to a 2xx", () => {
    const answered = new Set(
      recordedAnswers()
        .filter(({ status }) => status >= 200 && status < 300)
        .map(({ route }) => route),
    );
    // $default only ever answers 404: that it answered at all is its run.
    const anyAnswer = new Set(recordedAnswers().map(({ route }) => route));
    const unrun = Object.values(loadHttpRoutes())
      .flat()
      .filter((route) => !(route === "$default" ? anyAnswer : answered).has(route))
      .sort();
    expect(unrun).toEqual([]);
  });

  it("allows nothing that no test used", () => {
    const unused = [...granted()].filter((grant) => !recorded.has(grant)).sort();
    expect(unused).toEqual([]);
  });
});
