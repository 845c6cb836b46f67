/**
 * Imported first by `npm start`, before oidc-provider loads: on a Node it does not support,
 * oidc-provider warns as it is imported, and start.ts prints its own one line about the runtime
 * (node-support.ts) instead. Only that one warning is held back, once.
 */
import { nodeSupportNotice, OIDC_RUNTIME_WARNING } from "./node-support.ts";

if (nodeSupportNotice(process.versions.node)) {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === "string" && args[0].includes(OIDC_RUNTIME_WARNING)) {
      console.warn = warn;
      return;
    }
    warn(...args);
  };
}
