import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const SERVERLESS_BIN = createRequire(import.meta.url).resolve(
  "serverless/bin/serverless.js",
);

export interface TableDefinition {
  logicalId: string;
  /** The environment variable through which the functions learn the table's name. */
  envVar: string;
  properties: {
    TableName: string;
    KeySchema: { AttributeName: string; KeyType: "HASH" | "RANGE" }[];
    AttributeDefinitions: { AttributeName: string; AttributeType: "S" | "N" | "B" }[];
    GlobalSecondaryIndexes?: unknown[];
    LocalSecondaryIndexes?: unknown[];
  };
}

export interface PrintedConfig {
  /** `timeout`: the functions' default, in seconds. */
  provider: { environment: Record<string, string>; timeout?: number };
  functions: Record<
    string,
    {
      handler: string;
      timeout?: number;
      events?: { httpApi?: { method: string; path: string } | "*" }[];
    }
  >;
  resources: {
    Resources: Record<string, { Type: string; Properties: TableDefinition["properties"] }>;
  };
}

// Secrets never reach the cached copy, whatever the developer's environment holds.
const PRINT_ENV = { CURSOR_SECRET: "" };

/**
 * `serverless.yml` as the Serverless CLI resolves it, so local tables and checks can never
 * differ from what deploys. Cached by the file's hash: printing takes seconds, the cache ms.
 */
export function loadServerlessConfig(stage = "dev"): PrintedConfig {
  const source = readFileSync(join(ROOT, "serverless.yml"));
  const hash = createHash("sha256").update(source).update(stage).digest("hex").slice(0, 16);
  const cacheDir = join(tmpdir(), "music-user-data-tables");
  const cacheFile = join(cacheDir, `${hash}.json`);
  let printed: PrintedConfig;
  try {
    printed = JSON.parse(readFileSync(cacheFile, "utf8")) as PrintedConfig;
  } catch {
    const result = spawnSync(
      process.execPath,
      [SERVERLESS_BIN, "print", "--format", "json", "--stage", stage],
      {
        cwd: ROOT,
        env: { ...process.env, ...PRINT_ENV, SLS_TELEMETRY_DISABLED: "1" },
        encoding: "utf8",
      },
    );
    if (result.status !== 0) {
      throw new Error(`serverless print failed:\n${result.stderr || result.stdout}`);
    }
    printed = JSON.parse(result.stdout.slice(result.stdout.indexOf("{"))) as PrintedConfig;
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(cacheFile, JSON.stringify(printed));
  }
  return printed;
}

/** The tables of `serverless.yml`, each with the variable that tells the functions its name. */
export function loadTableDefinitions(stage = "dev"): TableDefinition[] {
  const printed = loadServerlessConfig(stage);
  const environment = printed.provider.environment;
  return Object.entries(printed.resources.Resources)
    .filter(([, resource]) => resource.Type === "AWS::DynamoDB::Table")
    .map(([logicalId, { Properties }]) => {
      const envVar = Object.keys(environment).find(
        (name) => environment[name] === Properties.TableName,
      );
      if (!envVar) throw new Error(`No provider.environment variable names table ${logicalId}`);
      return { logicalId, envVar, properties: Properties };
    });
}

/** Every HTTP API route of `serverless.yml`, as route keys ("GET /songs/{songId}"), by function. */
export function loadHttpRoutes(stage = "dev"): Record<string, string[]> {
  const { functions } = loadServerlessConfig(stage);
  return Object.fromEntries(
    Object.entries(functions).map(([name, fn]) => [
      name,
      (fn.events ?? []).flatMap((event) => {
        if (!event.httpApi) return [];
        // `httpApi: "*"` is API Gateway's $default route: what no other route matches.
        if (event.httpApi === "*") return ["$default"];
        return [`${event.httpApi.method.toUpperCase()} ${event.httpApi.path}`];
      }),
    ]),
  );
}
