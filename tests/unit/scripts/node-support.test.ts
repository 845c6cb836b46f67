import { describe, expect, it } from "vitest";
import { nodeSupportNotice } from "../../../scripts/local/node-support.ts";

describe("npm start's line about the Node it runs on", () => {
  it("names Node 20's end of life and what to install, in one line", () => {
    const notice = nodeSupportNotice("20.20.2");
    expect(notice).toContain("Node 20.20.2 is past its end of life (2026-04-30)");
    expect(notice).toContain("install Node 24 LTS (or 22)");
    expect(notice).not.toContain("\n");
  });

  it("says nothing on the supported lines, 22 and 24", () => {
    expect(nodeSupportNotice("22.12.0")).toBeUndefined();
    expect(nodeSupportNotice("v24.11.1")).toBeUndefined();
  });
});
