import { createHash } from "node:crypto";
import { logSettings } from "./config.ts";

/**
 * One JSON object per line, the shape CloudWatch Logs Insights and Powertools use. Callers pass
 * only what is safe to keep: never tokens, never metadata values (tests/integration/lib/logging).
 */
type Level = "DEBUG" | "INFO" | "WARN" | "ERROR";
const ORDER: Record<Level, number> = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40 };

const threshold = ORDER[logSettings.level as Level] ?? ORDER.INFO;
const { service } = logSettings;

export type LogFields = Record<string, string | number | boolean | null | undefined>;

function write(level: Level, message: string, fields: LogFields): void {
  if (ORDER[level] < threshold) return;
  const line = JSON.stringify({
    level,
    message,
    timestamp: new Date().toISOString(),
    service,
    ...fields,
  });
  if (level === "ERROR") console.error(line);
  else console.log(line);
}

export const log = {
  /** Whether a level is written: lets callers skip building fields nobody will read. */
  enabled: (level: Level) => ORDER[level] >= threshold,
  debug: (message: string, fields: LogFields = {}) => write("DEBUG", message, fields),
  info: (message: string, fields: LogFields = {}) => write("INFO", message, fields),
  warn: (message: string, fields: LogFields = {}) => write("WARN", message, fields),
  error: (message: string, fields: LogFields = {}) => write("ERROR", message, fields),
};

/** A stable pseudonym for a user id: lets an operator follow one caller without storing who. */
export function hashSubject(sub: string): string {
  return createHash("sha256").update(sub).digest("base64url").slice(0, 16);
}

/**
 * An audit line: who changed what of whom, when. Always written, whatever LOG_LEVEL, with
 * `"audit": true` so a metric filter or a Logs Insights query can select them. `actor` is the
 * caller's sub in plain text (an operator must know who did it); `changed` names keys, never
 * their values.
 */
export function audit(
  action: string,
  fields: {
    actor: string;
    target: string;
    correlationId: string;
    /** The client's own X-Correlation-Id, beside ours (never in its place). */
    clientCorrelationId?: string | undefined;
    /** API Gateway's id of the request: joins the line to the stage's access log. */
    requestId?: string;
  } & LogFields,
): void {
  console.log(
    JSON.stringify({
      level: "INFO",
      message: action,
      timestamp: new Date().toISOString(),
      service,
      audit: true,
      ...fields,
    }),
  );
}
