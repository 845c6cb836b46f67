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
    this.hooks = { "before:invoke:local:invoke": () => this.writeDoors() };
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
