import { getProfile, PROFILES_TABLE, profileKey, setFavGenre } from "../lib/db/profiles.ts";
import { httpHandler } from "../lib/http/handler.ts";
import { jsonResponse } from "../lib/http/responses.ts";
import { GenreBody, parse } from "../lib/schemas/index.ts";
import { warmContainer } from "../lib/warm-up.ts";

await warmContainer(PROFILES_TABLE, profileKey);

export const handler = httpHandler({
  "GET /genres/getFav": async ({ caller }) => {
    const profile = await getProfile(caller.sub);
    return jsonResponse(200, { favGenre: profile?.favGenre ?? null });
  },
  "PUT /genres/fav": async ({ caller, body }) => {
    const { genre } = parse(GenreBody, body);
    await setFavGenre(caller.sub, genre);
    return jsonResponse(200, { favGenre: genre });
  },
});
