/** Web Push handlers for the service worker (meetings alerts); none are registered yet. */

/** @param {ServiceWorkerGlobalScope} _worker */
export function registerPushHandlers(_worker) {}
