import { describe, expect, it } from "vitest";
import {
  checkMetadataSize,
  MAX_METADATA_BYTES,
  mergeMetadata,
  validateMetadataPatch,
} from "../../../../lib/domain/metadata.ts";
import { BadRequestError } from "../../../../lib/errors.ts";

function refusal(fn: () => void): BadRequestError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequestError);
    return error as BadRequestError;
  }
  throw new Error("expected a refusal");
}

describe("mergeMetadata (Auth0 PATCH semantics)", () => {
  it("merges at the top level, keeping keys the patch does not name", () => {
    expect(mergeMetadata({ theme: "dark", lang: "en" }, { lang: "fr" })).toEqual({
      theme: "dark",
      lang: "fr",
    });
  });
  it("removes a key set to null", () => {
    expect(mergeMetadata({ theme: "dark", lang: "en" }, { theme: null })).toEqual({ lang: "en" });
  });
  it("replaces a nested object whole instead of merging it", () => {
    const current = { avatar: { color: "red", shape: "round" } };
    expect(mergeMetadata(current, { avatar: { color: "blue" } })).toEqual({
      avatar: { color: "blue" },
    });
  });
  it("clears everything with an empty object", () => {
    expect(mergeMetadata({ theme: "dark" }, {})).toEqual({});
  });
  it("does not change the stored object it merges into", () => {
    const current = { theme: "dark" };
    mergeMetadata(current, { theme: "light" });
    expect(current).toEqual({ theme: "dark" });
  });
});

describe("validateMetadataPatch (field name rules)", () => {
  it.each([
    ["a.b", { "a.b": 1 }],
    ["$set", { $set: 1 }],
    ["x.y", { deep: { list: [{ "x.y": 1 }] } }],
  ])("refuses the key %s at any depth, naming it", (key, patch) => {
    expect(refusal(() => validateMetadataPatch("user_metadata", patch)).message).toContain(
      `"${key}"`,
    );
  });

  it.each(["__proto__", "constructor", "prototype"])("refuses %s everywhere", (key) => {
    const patch = JSON.parse(`{"prefs": {"${key}": {"admin": true}}}`);
    expect(refusal(() => validateMetadataPatch("user_metadata", patch)).message).toContain(key);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it.each(["blocked", "email", "user_id", "loginsCount", "__tenant"])(
    "refuses Auth0's reserved name %s in app_metadata only",
    (key) => {
      expect(refusal(() => validateMetadataPatch("app_metadata", { [key]: 1 })).message).toContain(
        key,
      );
      expect(() => validateMetadataPatch("user_metadata", { [key]: 1 })).not.toThrow();
    },
  );

  it("refuses numbers DynamoDB cannot store", () => {
    expect(refusal(() => validateMetadataPatch("user_metadata", { big: 1e200 })).message).toContain(
      "user_metadata.big",
    );
  });

  it("refuses nesting deeper than DynamoDB allows", () => {
    let deep: unknown = "leaf";
    for (let i = 0; i < 40; i++) deep = { level: deep };
    expect(refusal(() => validateMetadataPatch("user_metadata", { deep })).message).toContain(
      "nested",
    );
  });

  it("refuses a metadata value that is not an object", () => {
    expect(refusal(() => validateMetadataPatch("user_metadata", ["a"])).message).toContain(
      "must be an object",
    );
  });

  it("accepts ordinary preferences", () => {
    expect(() =>
      validateMetadataPatch("user_metadata", {
        theme: "dark",
        volume: 0.8,
        avatar: { hat: null },
        tags: ["a"],
      }),
    ).not.toThrow();
  });
});

describe("checkMetadataSize", () => {
  it("accepts exactly the limit and refuses one byte more", () => {
    const padding = (n: number) => ({ p: "x".repeat(n - JSON.stringify({ p: "" }).length) });
    expect(() => checkMetadataSize("user_metadata", padding(MAX_METADATA_BYTES))).not.toThrow();
    expect(
      refusal(() => checkMetadataSize("user_metadata", padding(MAX_METADATA_BYTES + 1))).message,
    ).toContain(String(MAX_METADATA_BYTES));
  });
  it("counts UTF-8 bytes, not characters", () => {
    const emoji = "🎵".repeat(MAX_METADATA_BYTES / 4);
    expect(() => checkMetadataSize("user_metadata", { e: emoji })).toThrow(BadRequestError);
  });
});
