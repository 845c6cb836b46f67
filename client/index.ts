/**
 * A typed client of the Music API, generated from its OpenAPI document (`npm run openapi`
 * writes client/api.d.ts with openapi-typescript) and run by openapi-fetch. App teams can copy
 * it; the end-to-end tests make their calls with it, so the document is exercised by a real
 * client on every run.
 */
import createClient from "openapi-fetch";
import type { paths } from "./api.d.ts";

export type { operations, paths } from "./api.d.ts";

export function musicApi(baseUrl: string, token?: string) {
  return createClient<paths>({
    baseUrl,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
}

export type MusicApi = ReturnType<typeof musicApi>;
