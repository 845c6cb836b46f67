import {
  isSelf,
  PERMISSIONS,
  requirePermission,
  requireSelfOrPermission,
} from "../lib/auth/access.ts";
import { deleteAccount } from "../lib/domain/account.ts";
import { exportPage } from "../lib/domain/export.ts";
import { checkPatchNotEmpty, PROFILE_WARM_UP, patchMetadata } from "../lib/domain/profile.ts";
import {
  emptyProfile,
  getUserRecord,
  type Profile,
  readUser,
  userFields,
  userObject,
} from "../lib/domain/user.ts";
import { BadRequestError, NotFoundError } from "../lib/errors.ts";
import { etagOf, ifMatch } from "../lib/http/etag.ts";
import { httpHandler } from "../lib/http/handler.ts";
import { jsonResponse } from "../lib/http/responses.ts";
import type { HttpEvent } from "../lib/http/types.ts";
import { isWellFormed } from "../lib/json.ts";
import { audit } from "../lib/log.ts";
import { metric } from "../lib/metrics.ts";
import { Refused } from "../lib/refusals.ts";
import { ExportQuery, parse, UserPatchBody } from "../lib/schemas/index.ts";
import { warmContainer } from "../lib/warm-up.ts";

/**
 * `{userId}` as sent (`google-oauth2%7C123`), decoded exactly once from the raw path: the
 * segment after `/users/`, whatever follows it (`/export`).
 */
function userIdOf(event: HttpEvent): string {
  const segments = event.rawPath.split("/");
  const encoded = segments[segments.indexOf("users") + 1] ?? "";
  try {
    const userId = decodeURIComponent(encoded);
    if (userId.length > 0 && userId.length <= 256 && isWellFormed(userId)) return userId;
  } catch {
    // fall through: malformed percent-encoding
  }
  throw new BadRequestError("userId must be a URL-encoded Auth0 user id", "invalid_user_id");
}

/** The user object; its ETag is the profile's version, whatever `fields` leaves out. */
function userResponse(profile: Profile, firstSeenAt: string | undefined, project = userFields({})) {
  return jsonResponse(200, project(userObject(profile, firstSeenAt)), {
    ETag: etagOf(profile.version),
  });
}

const UNKNOWN_USER = "The user does not exist";

/** Which keys differ between two metadata objects: what an audit line names, never values. */
function changedKeys(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]));
}

await warmContainer(PROFILE_WARM_UP);

export const handler = httpHandler(
  {
    "GET /users/{userId}": async ({ event, caller }) => {
      const userId = userIdOf(event);
      requireSelfOrPermission(caller, userId, PERMISSIONS.readUsers);
      const project = userFields(event.queryStringParameters ?? {});
      const { profile, firstSeenAt } = await readUser(userId, isSelf(caller, userId));
      // A signed-in user always has a profile, and so has anyone the API has seen (songs, plays);
      // an operator asking for a user never seen gets 404.
      if (profile || firstSeenAt)
        return userResponse(profile ?? emptyProfile(userId), firstSeenAt, project);
      if (isSelf(caller, userId)) return userResponse(emptyProfile(userId), undefined, project);
      throw new NotFoundError(UNKNOWN_USER, "inexistent_user");
    },

    "PATCH /users/{userId}": async ({ event, caller, body, correlationId }) => {
      const userId = userIdOf(event);
      const patch = parse(UserPatchBody, body);
      checkPatchNotEmpty(patch);
      if (patch.user_metadata !== undefined) {
        requireSelfOrPermission(caller, userId, PERMISSIONS.updateUsers);
      }
      if (patch.app_metadata !== undefined)
        requirePermission(caller, PERMISSIONS.updateAppMetadata);
      let firstSeenAt: string | undefined;
      const { before, profile } = await patchMetadata(
        userId,
        patch,
        ifMatch(event),
        !isSelf(caller, userId),
        // The first read takes the user's first-seen time too (one BatchGetItem, as a GetItem).
        async () => {
          const record = await getUserRecord(userId);
          firstSeenAt = record.firstSeenAt;
          return { profile: record.profile, known: firstSeenAt !== undefined };
        },
      );
      if (patch.app_metadata !== undefined && before) {
        const changed = changedKeys(before.appMetadata, profile.appMetadata);
        if (changed.length) {
          audit("app_metadata changed", {
            actor: caller.sub,
            target: userId,
            changed: changed.join(" "),
            correlationId,
            requestId: event.requestContext?.requestId,
          });
        }
      }
      return userResponse(profile, firstSeenAt);
    },

    "GET /users/{userId}/export": async ({ event, caller, correlationId }) => {
      const userId = userIdOf(event);
      requireSelfOrPermission(caller, userId, PERMISSIONS.readUsers);
      const { cursor } = parse(ExportQuery, event.queryStringParameters ?? {}, "Query");
      const page = await exportPage(userId, cursor, !isSelf(caller, userId));
      metric("ExportPages");
      if (cursor === undefined) {
        audit("data export started", {
          actor: caller.sub,
          target: userId,
          correlationId,
          requestId: event.requestContext?.requestId,
        });
      }
      return jsonResponse(200, page);
    },

    "DELETE /users/{userId}": async ({ event, caller, correlationId }) => {
      const userId = userIdOf(event);
      requireSelfOrPermission(caller, userId, PERMISSIONS.deleteUsers);
      const outcome = await deleteAccount(userId, ifMatch(event), !isSelf(caller, userId));
      // A user with nothing stored (operators) is the mapper's 404 inexistent_user, as for PATCH.
      if ("refusal" in outcome) throw new Refused(outcome.refusal);
      audit("account deleted", {
        actor: caller.sub,
        target: userId,
        auth0User: outcome.auth0User,
        resumed: outcome.resumed,
        correlationId,
        requestId: event.requestContext?.requestId,
      });
      return jsonResponse(204);
    },
  },
  // Operators with client-credentials tokens manage users; the permission checks above decide.
  { machines: true },
);
