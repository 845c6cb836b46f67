import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sampleEvents } from "../../scripts/local/sample-events.ts";
import { ROOT } from "../../scripts/local/serverless-config.ts";

/**
 * events/ is generated: a route's event from its declaration, the others from one template per
 * kind. The files must be what the generator makes.
 */
describe("events/", () => {
  it("holds exactly the generated sample events (run `npm run events` after a change)", async () => {
    const generated = await sampleEvents();
    const files = readdirSync(join(ROOT, "events")).map((file) => file.replace(/\.json$/, ""));
    expect(files.sort()).toEqual(Object.keys(generated).sort());
    for (const [name, event] of Object.entries(generated)) {
      const onDisk = JSON.parse(readFileSync(join(ROOT, "events", `${name}.json`), "utf8"));
      expect(onDisk, name).toEqual(JSON.parse(JSON.stringify(event)));
    }
  });
});
