import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sampleEvents } from "../../scripts/local/sample-events.ts";
import { ROOT } from "../../scripts/local/serverless-config.ts";

/** events/ is generated from one template per kind: the files must be what it generates. */
describe("events/", () => {
  const generated = sampleEvents();

  it("holds exactly the generated sample events (run `npm run events` after a change)", () => {
    const files = readdirSync(join(ROOT, "events")).map((file) => file.replace(/\.json$/, ""));
    expect(files.sort()).toEqual(Object.keys(generated).sort());
    for (const [name, event] of Object.entries(generated)) {
      const onDisk = JSON.parse(readFileSync(join(ROOT, "events", `${name}.json`), "utf8"));
      expect(onDisk, name).toEqual(JSON.parse(JSON.stringify(event)));
    }
  });
});
