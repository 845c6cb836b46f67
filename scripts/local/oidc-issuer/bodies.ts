/** Request bodies the tenant reads itself: forms and Auth0's JSON ones, of a bounded size. */
import type { IncomingMessage } from "node:http";
import { errors } from "oidc-provider";

const FORM_LIMIT = 10_000;

export async function readBody(request: IncomingMessage): Promise<string> {
  let text = "";
  for await (const chunk of request) {
    text += chunk;
    if (text.length > FORM_LIMIT) throw new errors.InvalidRequest("request body too large");
  }
  return text;
}

export function parseBody(text: string, json: boolean): Record<string, string> {
  if (!json) return Object.fromEntries(new URLSearchParams(text));
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed))
      return parsed as Record<string, string>;
  } catch {
    // answered below
  }
  throw new errors.InvalidRequest("the request body must be a JSON object");
}
