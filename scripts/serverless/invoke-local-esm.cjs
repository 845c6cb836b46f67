"use strict";

const { mkdirSync, writeFileSync } = require("node:fs");
const { dirname, join } = require("node:path");

/**
 * `serverless invoke local` (osls) loads a handler with require(), which cannot load the ESM
 * bundles Lambda runs (.mjs, with top-level await). After serverless-esbuild has built them
 * (it is listed before this plugin), this writes a CommonJS door beside each bundle: a `.cjs`
 * file, the name osls tries when require() finds no `.js`, that imports the ESM bundle. Only
 * invoke local sees it; packages and `npm start` load the `.mjs` itself, as Lambda does.
 */
class InvokeLocalEsm {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      "before:invoke:local:loadEnvVars": () => this.requireLocalStack(),
      "before:invoke:local:invoke": () => this.writeDoors(),
    };
  }

  /**
   * On the dev stage the functions talk to the local stack: without its variables they would
   * reach for AWS and fail with a 500 whose cause (no credentials) is only in the log. Say so
   * before building anything.
   */
  requireLocalStack() {
    if (this.serverless.getProvider("aws").getStage() !== "dev") return;
    const environment = this.serverless.service.provider.environment ?? {};
    const missing = ["DYNAMODB_ENDPOINT", "CURSOR_SECRET"].filter((name) => !environment[name]);
    if (!missing.length) return;
    throw new this.serverless.classes.Error(
      `serverless invoke local runs the dev stage's functions against the local stack, and this shell lacks its variables (${missing.join(", ")}). With npm start running, run this first in the same shell: eval "$(npm run -s env)"`,
    );
  }

  writeDoors() {
    const buildDir = this.serverless.config.servicePath;
    for (const fn of Object.values(this.serverless.service.functions ?? {})) {
      const dot = fn.handler.lastIndexOf(".");
      const file = fn.handler.slice(0, dot);
      const exported = fn.handler.slice(dot + 1);
      const door = join(buildDir, `${file}.cjs`);
      mkdirSync(dirname(door), { recursive: true });
      const bundle = JSON.stringify(`./${file.split("/").pop()}.mjs`);
      writeFileSync(
        door,
        `"use strict";\nexports.${exported} = async (event, context) => (await import(${bundle})).${exported}(event, context);\n`,
      );
    }
  }
}

module.exports = InvokeLocalEsm;
