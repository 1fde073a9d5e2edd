/** The service worker: precached app shell, every app path opening offline, Background Sync. */

import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';

import { createApi } from './api/client.js';
import { openLocalDb } from './db/index.js';
import { createSyncEngine } from './sync/engine.js';
import { registerPushHandlers } from './sw-push.js';

/** @type {ServiceWorkerGlobalScope} */
const worker = /** @type {any} */ (self);

// Workbox writes the list of app-shell files and their revisions here at build time.
precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();

// Any app path (/members/new, /grievances/<id>...) is the one page; the API never is.
registerRoute(
  new NavigationRoute(createHandlerBoundToURL('/index.html'), { denylist: [/^\/api\//] }),
);

worker.addEventListener('message', (/** @type {any} */ event) => {
  // The page asks for this once the person taps "reload" on the new-version prompt.
  if (event.data && event.data.type === 'SKIP_WAITING') worker.skipWaiting();
});

worker.addEventListener('activate', (/** @type {any} */ event) => {
  // The first install takes control at once so the first visit already works offline;
  // open tabs of an older release hear which release now serves them.
  event.waitUntil(
    worker.clients.claim().then(async () => {
      for (const client of await worker.clients.matchAll({ type: 'window' })) {
        client.postMessage({ type: 'activated', release: __RELEASE__ });
      }
    }),
  );
});

/** Background Sync (Chromium only): the outbox goes out even after the tab is closed. */
worker.addEventListener('sync', (/** @type {any} */ event) => {
  if (event.tag === 'outbox') {
    event.waitUntil(
      openLocalDb()
        .then((db) => createSyncEngine({ db, api: createApi({ db }) }).sync())
        .then((report) => {
          // A rejected promise tells the browser to try again later with its own backoff.
          if (report.status === 'offline') throw new Error('still offline');
        }),
    );
  }
});

registerPushHandlers(worker);
