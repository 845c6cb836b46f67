/**
 * Every function's route declarations (the `routes` each functions/*.ts exports), for what is
 * built or checked from them: the OpenAPI document, serverless.yml's routes, throttles and
 * alarms, the bench. A function module reads its configuration when imported; the placeholders
 * below stand in where none is set (nothing of them reaches what is built).
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Route } from "../../lib/http/route.ts";
import { ROOT } from "./serverless-config.ts";

const PLACEHOLDERS: Record<string, string> = {
  AUTH_ISSUER: "http://127.0.0.1:3003/",
  AUTH_AUDIENCE: "https://api.music.local",
  CURSOR_SECRET: "placeholder-cursor-secret-of-32-characters",
  PROFILES_TABLE: "profiles",
  SONGS_TABLE: "songs",
  PLAYLISTS_TABLE: "playlists",
  FEATURED_TABLE: "featured",
  COUNTERS_TABLE: "counters",
  IDEMPOTENCY_TABLE: "idempotency",
  RATE_LIMITS_TABLE: "rate-limits",
};

/** The function modules: every file of functions/, by name (serverless.yml's function names). */
function functionNames(): string[] {
  return readdirSync(join(ROOT, "functions"))
    .filter((file) => file.endsWith(".ts"))
    .map((file) => file.replace(/\.ts$/, ""))
    .sort();
}

/** Each function's declarations, by function name. */
export async function declaredRoutes(): Promise<Record<string, readonly Route[]>> {
  for (const [name, value] of Object.entries(PLACEHOLDERS)) process.env[name] ??= value;
  const entries = await Promise.all(
    functionNames().map(async (name) => {
      const file = pathToFileURL(join(ROOT, "functions", `${name}.ts`)).href;
      const module = (await import(file)) as { routes: readonly Route[] };
      return [name, module.routes] as const;
    }),
  );
  return Object.fromEntries(entries);
}
