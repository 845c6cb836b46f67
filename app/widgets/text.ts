/** How the screens word what the library holds. */
import type { Data } from "../store.ts";

export const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`;

const DEFAULT_DISPLAY_NAME = "user";

export const text = (data: Data | null | undefined, field: string) => {
  const value = data?.[field];
  return typeof value === "string" ? value : "";
};
export const displayNameIn = (profile: Data | null | undefined) =>
  text(profile?.user_metadata as Data | undefined, "displayName") || DEFAULT_DISPLAY_NAME;
