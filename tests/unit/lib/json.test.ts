import { describe, expect, it } from "vitest";
import { BadRequestError } from "../../../lib/errors.ts";
import { parseJson } from "../../../lib/json.ts";

describe("parseJson", () => {
  it("parses ordinary JSON", () => {
    expect(parseJson('{"a": [1, {"b": null}]}')).toEqual({ a: [1, { b: null }] });
  });
  it.each(["__proto__", "constructor", "prototype"])(
    "refuses the key %s at any depth, naming it",
    (key) => {
      const text = `{"user_metadata": {"x": [{"${key}": {"polluted": true}}]}}`;
      expect(() => parseJson(text)).toThrow(BadRequestError);
      expect(() => parseJson(text)).toThrow(`Key "${key}" is not allowed`);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    },
  );
  it("answers a clear 400 for malformed JSON", () => {
    expect(() => parseJson("{nope")).toThrow("Request body is not valid JSON");
  });
});
