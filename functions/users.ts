import * as z from "zod/mini";
import {
  isSelf,
  PERMISSIONS,
  requirePermission,
  requireSelfOrPermission,
} from "../lib/auth/access.ts";
import { MAX_REQUEST_UNITS } from "../lib/db/capacity.ts";
import { emptyProfile, getUserRecord, type Profile } from "../lib/db/profiles.ts";
import { deleteAccount } from "../lib/domain/account.ts";
import { exportPage } from "../lib/domain/export.ts";
import { checkPatchNotEmpty, PROFILE_WARM_UP, patchMetadata } from "../lib/domain/profile.ts";
import { readUser, userFields, userObject } from "../lib/domain/user.ts";
import { NotFoundError } from "../lib/errors.ts";
import { etagOf } from "../lib/http/etag.ts";
import { httpHandler } from "../lib/http/handler.ts";
import { IfMatch, UserId } from "../lib/http/params.ts";
import { defineRoute } from "../lib/http/route.ts";
import { warmContainer } from "../lib/lambda/warm-up.ts";
import { audit } from "../lib/log.ts";
import { Refused } from "../lib/refusals.ts";
import { Cursor } from "../lib/schemas/lists.ts";
import { UserFieldsQuery, UserPatchBody } from "../lib/schemas/profile.ts";

/** The user object; its ETag is the profile's version, whatever `fields` leaves out. */
function userAnswer(
  profile: Profile,
  firstSeenAt: string | undefined,
  project: ReturnType<typeof userFields>,
) {
  return {
    body: project(userObject(profile, firstSeenAt)),
    etag: { ETag: etagOf(profile.version) },
  };
}

const UNKNOWN_USER = "The user does not exist";

/** Which keys differ between two metadata objects: what an audit line names, never values. */
function changedKeys(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]));
}

await warmContainer(PROFILE_WARM_UP);

// Operators with client-credentials tokens manage users; the permission checks decide.
const caller = "person-or-machine";
const tag = "users";
const params = { userId: UserId };

export const routes = [
  defineRoute({
    key: "GET /users/{userId}",
    id: "getUser",
    tag,
    summary: "A profile (own, or any with read:users)",
    description:
      "A profile: one's own (always, empty when nothing is stored), or any with read:users (404 for a user the API never saw). All five fields unless fields/include_fields choose, as on Auth0's Management API. created_at is when the API first saw the user (any write, a play included), updated_at the last change of what this object shows; neither is ever null. Answers a strong ETag: the profile's version, which moves whenever the whole object changes.",
    caller,
    params,
    query: UserFieldsQuery,
    responses: { 200: { schema: "UserFields", headers: { ETag: "required" } } },
    errors: ["invalid_query", "insufficient_scope", "inexistent_user"],
    notes: { invalid_query: "include_fields not true or false, or fields over 1024 characters" },
    handler: async (request) => {
      const { caller, respond } = request;
      const { userId } = request.params;
      requireSelfOrPermission(caller, userId, PERMISSIONS.readUsers);
      const project = userFields(request.query);
      const { profile, firstSeenAt } = await readUser(userId, isSelf(caller, userId));
      // A signed-in user always has a profile, and so has anyone the API has seen (songs, plays);
      // an operator asking for a user never seen gets 404.
      if (!profile && !firstSeenAt && !isSelf(caller, userId)) {
        throw new NotFoundError(UNKNOWN_USER, "inexistent_user");
      }
      const { body, etag } = userAnswer(profile ?? emptyProfile(userId), firstSeenAt, project);
      return respond(200, body, etag);
    },
  }),

  defineRoute({
    key: "PATCH /users/{userId}",
    id: "updateUser",
    tag,
    summary: "Merge metadata with Auth0's semantics",
    description:
      "Merges user_metadata (own, or update:users) and app_metadata (update:users_app_metadata) with Auth0's semantics; If-Match makes it conditional.",
    caller,
    params,
    headers: { ifMatch: IfMatch },
    body: UserPatchBody,
    responses: { 200: { schema: "User", headers: { ETag: "required" } } },
    errors: [
      "invalid_key",
      "invalid_metadata",
      "metadata_too_large",
      "insufficient_scope",
      "inexistent_user",
      "account_being_deleted",
      "write_conflict",
    ],
    notes: { write_conflict: "many writes of the same keys at once (retry)" },
    example: {
      body: { user_metadata: { displayName: "J-vald3z", preferences: { theme: "dark" } } },
    },
    // Parts are parsed as read: If-Match only once the caller may change what they send.
    handler: async (request) => {
      const { caller, correlationId, event, respond } = request;
      const { userId } = request.params;
      const patch = request.body;
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
        request.headers.ifMatch,
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
            clientCorrelationId: request.clientCorrelationId,
            requestId: event.requestContext?.requestId,
          });
        }
      }
      return respond(200, userObject(profile, firstSeenAt), {
        ETag: etagOf(profile.version),
      });
    },
  }),

  defineRoute({
    key: "GET /users/{userId}/export",
    id: "exportUser",
    tag,
    summary: "Export a user's data, page by page",
    description:
      "One page of everything the API keeps of a user (own, or any with read:users; another user's is 403, an unknown user 404 for operators): the first page holds the profile, favGenre, totalPlays and the first songs and playlists, each later one (nextCursor) only songs and playlists. A page holds at most 4 MB of JSON. The pages together hold every song and playlist created up to exportedAt exactly once, each as it is when its page is read; one deleted before the walk reaches it is absent, none created later is in it.",
    caller,
    params,
    // The cursor only; unknown parameters are ignored as on lists.
    query: z.object({ cursor: Cursor }),
    responses: { 200: { schema: "ExportPage" } },
    errors: ["invalid_query", "invalid_cursor", "insufficient_scope", "inexistent_user"],
    notes: { invalid_query: "cursor over 2048 characters" },
    // An export page reads up to 4 MB from DynamoDB, and is cut at the most one request may cost.
    p99Ms: 5000,
    maxUnits: MAX_REQUEST_UNITS,
    counts: "ExportPages",
    handler: async (request) => {
      const { caller, correlationId, event, respond } = request;
      const { userId } = request.params;
      requireSelfOrPermission(caller, userId, PERMISSIONS.readUsers);
      const { cursor } = request.query;
      const page = await exportPage(userId, cursor, !isSelf(caller, userId));
      if (cursor === undefined) {
        audit("data export started", {
          actor: caller.sub,
          target: userId,
          correlationId,
          clientCorrelationId: request.clientCorrelationId,
          requestId: event.requestContext?.requestId,
        });
      }
      return respond(200, page);
    },
  }),

  defineRoute({
    key: "DELETE /users/{userId}",
    id: "deleteUser",
    tag,
    summary: "Erase the user's data and the Auth0 user (a retry finishes an interrupted one)",
    description:
      "Erases the profile, songs and playlists (own, or delete:users), then deletes the Auth0 user through the Management API (when AUTH0_MGMT_CLIENT_ID is configured). If-Match is checked before anything is removed. Until the deletion is done the post-login hook refuses the user (409 account_being_deleted); a deletion interrupted anywhere (a 503) is finished by the next DELETE of the same user, whatever its If-Match.",
    caller,
    params,
    headers: { ifMatch: IfMatch },
    responses: { 204: {} },
    errors: ["insufficient_scope", "inexistent_user"],
    notes: {
      temporarily_unavailable:
        "or Auth0's Management API did not answer (the next DELETE finishes the deletion)",
    },
    // Deleting an account pages through up to 11,000 items.
    p99Ms: 10000,
    handler: async (request) => {
      const { caller, correlationId, event, respond } = request;
      const { userId } = request.params;
      requireSelfOrPermission(caller, userId, PERMISSIONS.deleteUsers);
      const ifMatch = request.headers.ifMatch;
      const outcome = await deleteAccount(userId, ifMatch, !isSelf(caller, userId));
      // A user with nothing stored (operators) is the mapper's 404 inexistent_user, as for PATCH.
      if ("refusal" in outcome) throw new Refused(outcome.refusal);
      audit("account deleted", {
        actor: caller.sub,
        target: userId,
        auth0User: outcome.auth0User,
        resumed: outcome.resumed,
        correlationId,
        clientCorrelationId: request.clientCorrelationId,
        requestId: event.requestContext?.requestId,
      });
      return respond(204, undefined);
    },
  }),
];

export const handler = httpHandler(routes);
