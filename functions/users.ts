import { emptyProfile, getProfile, type Profile } from "../lib/db/profiles.ts";
import { isSelf, requireScope, requireSelfOrScope, SCOPES } from "../lib/domain/access.ts";
import { deleteAccount } from "../lib/domain/account.ts";
import { checkPatchNotEmpty, patchMetadata } from "../lib/domain/profile.ts";
import { BadRequestError, NotFoundError } from "../lib/http/errors.ts";
import { etagOf, ifMatch } from "../lib/http/etag.ts";
import { httpHandler } from "../lib/http/handler.ts";
import { type HttpEvent, jsonResponse } from "../lib/http/middleware.ts";
import { parse, UserPatchBody } from "../lib/schemas/index.ts";

/** `{userId}` as sent (`google-oauth2%7C123`), decoded exactly once from the raw path. */
function userIdOf(event: HttpEvent): string {
  const encoded = event.rawPath.slice(event.rawPath.lastIndexOf("/") + 1);
  try {
    const userId = decodeURIComponent(encoded);
    if (userId.length > 0 && userId.length <= 256) return userId;
  } catch {
    // fall through: malformed percent-encoding
  }
  throw new BadRequestError("userId must be a URL-encoded Auth0 user id", "invalid_user_id");
}

function userResponse(profile: Profile) {
  return jsonResponse(
    200,
    {
      user_id: profile.userId,
      user_metadata: profile.userMetadata,
      app_metadata: profile.appMetadata,
      created_at: profile.createdAt,
      updated_at: profile.updatedAt,
    },
    { ETag: etagOf(profile.version) },
  );
}

export const handler = httpHandler({
  "GET /users/{userId}": async ({ event, caller }) => {
    const userId = userIdOf(event);
    requireSelfOrScope(caller, userId, SCOPES.readUsers);
    const profile = await getProfile(userId);
    if (profile) return userResponse(profile);
    // A signed-in user always has a profile; an operator asking for an unknown user gets 404.
    if (isSelf(caller, userId)) return userResponse(emptyProfile(userId));
    throw new NotFoundError("The user does not exist", "inexistent_user");
  },

  "PATCH /users/{userId}": async ({ event, caller, body }) => {
    const userId = userIdOf(event);
    const patch = parse(UserPatchBody, body);
    checkPatchNotEmpty(patch);
    if (patch.user_metadata !== undefined) requireSelfOrScope(caller, userId, SCOPES.updateUsers);
    if (patch.app_metadata !== undefined) requireScope(caller, SCOPES.updateAppMetadata);
    return userResponse(await patchMetadata(userId, patch, ifMatch(event)));
  },

  "DELETE /users/{userId}": async ({ event, caller }) => {
    const userId = userIdOf(event);
    requireSelfOrScope(caller, userId, SCOPES.deleteUsers);
    await deleteAccount(userId, ifMatch(event));
    return jsonResponse(204);
  },
});
