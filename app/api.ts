import type { Auth0Client } from "@auth0/auth0-spa-js";
import { type MusicApi, musicApi, type operations } from "../client/index.ts";

type Json<Op extends keyof operations, Status extends number> = operations[Op] extends {
  responses: Record<Status, { content: { "application/json": infer Body } }>;
}
  ? Body
  : never;

/** A featured playlist, with the editor who created it (`createdBy`) and who changed it last. */
export type FeaturedPlaylist = Json<"listFeaturedPlaylists", 200>["playlists"][number];

/** What the API answered instead of a success, in words a person can act on. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly errorCode?: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

interface Answer<T> {
  data?: T;
  error?: { message?: string; errorCode?: string } | unknown;
  response: Response;
}

/** The body of a success, or an ApiError with the message the API sent (its error shape). */
export function ok<T>({ data, error, response }: Answer<T>): T {
  if (response.ok) return data as T;
  const body = (error ?? {}) as { message?: unknown; errorCode?: unknown };
  const retryAfter = Number(response.headers.get("retry-after"));
  throw new ApiError(
    typeof body.message === "string" ? body.message : `The API answered ${response.status}.`,
    response.status,
    typeof body.errorCode === "string" ? body.errorCode : undefined,
    Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
  );
}

/** auth0-spa-js's answers meaning that this browser holds no usable session: log in again. */
export const SESSION_OVER = new Set(["login_required", "missing_refresh_token", "invalid_grant"]);

/**
 * The typed client of client/index.ts with a fresh access token per call: auth0-spa-js answers
 * from its cache and, when the token is about to expire, exchanges the refresh token for new
 * ones (no iframe: that works with third-party cookies blocked). `renewed` hears of each token
 * that differs from the last (`current` at first), so what the app shows follows the roles a
 * refresh brought; `ended`, of a refresh the tenant refused (the session is over).
 */
export function apiFor(
  auth0: Auth0Client,
  apiUrl: string,
  session: { current: string; renewed(token: string): void; ended(): void },
) {
  let last = session.current;
  return async (): Promise<MusicApi> => {
    let token: string;
    try {
      token = (await auth0.getTokenSilently()) ?? "";
    } catch (error) {
      if (SESSION_OVER.has((error as { error?: string }).error ?? "")) session.ended();
      throw error;
    }
    if (token !== last) {
      last = token;
      session.renewed(token);
    }
    return musicApi(apiUrl, token);
  };
}

/** A key per user action, so that a retried create or play is not done twice. */
export const idempotencyKey = () => ({ "Idempotency-Key": crypto.randomUUID() });
