/**
 * The users function's routes called in process, as its tests call them: one user's route by
 * fixture, a PATCH, a signed-in person, and what refusals under contention look like.
 */
import { expect } from "vitest";
import { handler } from "../../functions/users.ts";
import { httpEvent, invoke } from "./invoke.ts";
import { tokenFor, uniqueUser } from "./tokens.ts";

type Fixture = "getUser" | "updateUser" | "deleteUser" | "exportUser";

export function onUser(
  fixture: Fixture,
  token: string,
  userId: string,
  options: {
    body?: unknown;
    headers?: Record<string, string>;
    rawPath?: string;
    query?: Record<string, string>;
  } = {},
) {
  return invoke(
    handler,
    httpEvent(fixture, {
      token,
      rawPath: options.rawPath ?? `/users/${encodeURIComponent(userId)}`,
      pathParameters: { userId },
      ...(options.body === undefined ? {} : { body: options.body }),
      ...(options.headers ? { headers: options.headers } : {}),
      ...(options.query ? { query: options.query } : {}),
    }),
  );
}
export const patch = (
  token: string,
  userId: string,
  body: unknown,
  headers?: Record<string, string>,
) => onUser("updateUser", token, userId, { body, ...(headers ? { headers } : {}) });

/** Refusals under contention: 409 write_conflict with Retry-After, in the contract's shape. */
export function expectConflicts(refused: Awaited<ReturnType<typeof invoke>>[]): void {
  for (const response of refused) {
    expect(response.statusCode).toBe(409);
    expect(response.body).toMatchObject({
      statusCode: 409,
      error: "Conflict",
      errorCode: "write_conflict",
    });
    expect(response.headers["retry-after"]).toBe("1");
  }
}

export async function self(prefix = "google-oauth2") {
  const sub = uniqueUser(prefix);
  return { sub, token: await tokenFor(sub) };
}
