/**
 * The Node lines this project supports: 22 and 24 (Lambda runs nodejs24.x). An older one still
 * runs it, and `npm start` says once, in one line, what to install instead.
 */
const END_OF_LIFE: Record<number, string> = { 18: "2025-04-30", 20: "2026-04-30" };

/** The one line `npm start` prints on a Node past its end of life; none on 22 or later. */
export function nodeSupportNotice(version: string): string | undefined {
  const major = Number(version.replace(/^v/, "").split(".")[0]);
  if (major >= 22) return undefined;
  const since = END_OF_LIFE[major] ? ` (${END_OF_LIFE[major]})` : "";
  return `Node ${version.replace(/^v/, "")} is past its end of life${since}; everything here still runs on it, but install Node 24 LTS (or 22): https://nodejs.org/en/download`;
}

/** oidc-provider's own warning about the runtime, which the line above says already. */
export const OIDC_RUNTIME_WARNING = "oidc-provider WARNING: Unsupported runtime.";
