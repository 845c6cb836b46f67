import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { HttpEvent } from "../../lib/http/types.ts";
import { ROOT } from "./serverless-config.ts";

/**
 * The sample events of events/ (what `serverless invoke local -p` sends), varied in the fields a
 * caller cares about. Used by the tests and the bench.
 */
/** A sample event from events/, as `serverless invoke local -p` would send it. */
export function loadEvent(name: string): HttpEvent {
  return JSON.parse(readFileSync(join(ROOT, "events", `${name}.json`), "utf8")) as HttpEvent;
}

export interface EventChanges {
  token?: string | null;
  body?: unknown;
  rawBody?: string;
  pathParameters?: Record<string, string>;
  rawPath?: string;
  query?: Record<string, string>;
  /** Header changes; `null` removes a header the fixture carries. */
  headers?: Record<string, string | null>;
}

/** A fixture varied in the fields a test cares about; everything else stays as captured. */
export function httpEvent(name: string, changes: EventChanges = {}): HttpEvent {
  const event = loadEvent(name);
  const headers: Record<string, string | undefined> = { ...event.headers };
  for (const [name, value] of Object.entries(changes.headers ?? {})) {
    if (value === null) delete headers[name];
    else headers[name] = value;
  }
  if (changes.token === null) delete headers.authorization;
  else if (changes.token !== undefined) headers.authorization = `Bearer ${changes.token}`;
  return {
    ...event,
    headers,
    ...(changes.body !== undefined ? { body: JSON.stringify(changes.body) } : {}),
    ...(changes.rawBody !== undefined ? { body: changes.rawBody } : {}),
    ...(changes.pathParameters ? { pathParameters: changes.pathParameters } : {}),
    ...(changes.rawPath ? { rawPath: changes.rawPath } : {}),
    ...(changes.query
      ? {
          queryStringParameters: changes.query,
          rawQueryString: new URLSearchParams(changes.query).toString(),
        }
      : {}),
  };
}
