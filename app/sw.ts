/**
 * The app's service worker: Workbox's precache serves the app shell (index.html, app.js,
 * app.css) so the app opens offline. scripts/local/web-app.ts writes the precache manifest into
 * this bundle, each file with a revision hashed from the build: a new deploy is a new sw.js,
 * which downloads the changed files, takes over at once (skipWaiting, clientsClaim) and drops
 * the old ones, so the next load is the new build whole, never old and new files mixed.
 */
import { clientsClaim } from "workbox-core";
import {
  cleanupOutdatedCaches,
  createHandlerBoundToURL,
  type PrecacheEntry,
  precacheAndRoute,
} from "workbox-precaching";
import { NavigationRoute, registerRoute } from "workbox-routing";

// The worker's own global (the app's tsconfig has the DOM's, not the WebWorker lib).
declare const self: { __WB_MANIFEST: PrecacheEntry[]; skipWaiting(): Promise<void> };

void self.skipWaiting();
clientsClaim();
cleanupOutdatedCaches();
precacheAndRoute(self.__WB_MANIFEST);
// Any page of the app (the login's return to /?code=…) is the shell; the app routes itself.
registerRoute(new NavigationRoute(createHandlerBoundToURL("/index.html")));
