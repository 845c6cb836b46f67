import { chooseFavGenre, favGenreOf, PROFILE_WARM_UP } from "../lib/domain/profile.ts";
import { httpHandler } from "../lib/http/handler.ts";
import { jsonResponse } from "../lib/http/responses.ts";
import { GenreBody, parse } from "../lib/schemas/index.ts";
import { warmContainer } from "../lib/warm-up.ts";

await warmContainer(PROFILE_WARM_UP);

export const handler = httpHandler({
  "GET /genres/getFav": async ({ caller }) =>
    jsonResponse(200, { favGenre: await favGenreOf(caller.sub) }),
  "PUT /genres/fav": async ({ caller, body }) => {
    const { genre } = parse(GenreBody, body);
    return jsonResponse(200, { favGenre: await chooseFavGenre(caller.sub, genre) });
  },
});
