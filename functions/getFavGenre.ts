import { chooseFavGenre, favGenreOf, PROFILE_WARM_UP } from "../lib/domain/profile.ts";
import { httpHandler } from "../lib/http/handler.ts";
import { defineRoute } from "../lib/http/route.ts";
import { warmContainer } from "../lib/lambda/warm-up.ts";
import { GenreBody } from "../lib/schemas/profile.ts";

export const routes = [
  defineRoute({
    key: "GET /genres/getFav",
    id: "getFavouriteGenre",
    tag: "profile",
    summary: "The caller's favourite genre",
    description: "The caller's favourite genre, null when unset.",
    caller: "person",
    responses: { 200: { schema: "FavGenreResult" } },
    handler: async ({ caller, respond }) =>
      respond(200, { favGenre: await favGenreOf(caller.sub) }),
  }),
  defineRoute({
    key: "PUT /genres/fav",
    id: "setFavouriteGenre",
    tag: "profile",
    summary: "Set the caller's favourite genre",
    description:
      "Sets the caller's favourite genre (1 to 64 characters). Moves the profile's ETag.",
    caller: "person",
    body: GenreBody,
    responses: { 200: { schema: "FavGenreResult" } },
    errors: ["account_being_deleted"],
    example: { body: { genre: "jazz" } },
    handler: async ({ caller, body, respond }) =>
      respond(200, { favGenre: await chooseFavGenre(caller.sub, body.genre) }),
  }),
];

await warmContainer(PROFILE_WARM_UP);

export const handler = httpHandler(routes);
