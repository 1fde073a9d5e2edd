/** Installs the service worker and tells the page when a new release is ready to take over. */

import { useEffect, useState } from 'preact/hooks';

/** @type {ServiceWorkerRegistration|null} */
let registration = null;
let updateReady = false;
let updateRequested = false;
let reloading = false;

function reloadOnce() {
  if (reloading) return;
  reloading = true;
  location.reload();
}
/** @type {Set<() => void>} */
const listeners = new Set();

function markReady() {
  updateReady = true;
  listeners.forEach((listener) => listener());
}

/** @param {ServiceWorker|null} worker */
function watch(worker) {
  if (!worker) return;
  worker.addEventListener('statechange', () => {
    // "installed" with a controller present means an older release runs this page.
    if (worker.state === 'installed' && navigator.serviceWorker.controller) markReady();
  });
}

export function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    // The release this page asked for has taken over: run its code. (The first install
    // taking control of a fresh page needs no reload.)
    if (updateRequested) reloadOnce();
  });
  navigator.serviceWorker.addEventListener('message', (event) => {
    // Another tab let a new release take over: this tab's code is now the old one.
    if (event.data && event.data.type === 'activated' && event.data.release !== __RELEASE__) reloadOnce();
  });
  navigator.serviceWorker
    .register('/sw.js', { updateViaCache: 'none' })
    .then((reg) => {
      registration = reg;
      if (reg.waiting && navigator.serviceWorker.controller) markReady();
      watch(reg.installing);
      reg.addEventListener('updatefound', () => watch(reg.installing));
    })
    .catch(() => {
      // No worker (private mode, old browser): the app still works online.
    });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') checkForUpdate();
  });
}

/** Ask the server for a newer release (also when it answers `client_outdated`). */
export function checkForUpdate() {
  if (registration && navigator.onLine) registration.update().catch(() => {});
}

/** Let the waiting release take over; the page reloads on `controllerchange`. */
export function applyUpdate() {
  const waiting = registration && registration.waiting;
  if (waiting) {
    updateRequested = true;
    waiting.postMessage({ type: 'SKIP_WAITING' });
  } else reloadOnce();
}

/** Whether a new release is waiting for the person to reload. */
export function useUpdateReady() {
  const [ready, setReady] = useState(updateReady);
  useEffect(() => {
    const listener = () => setReady(true);
    listeners.add(listener);
    if (updateReady) setReady(true);
    return () => {
      listeners.delete(listener);
    };
  }, []);
  return ready;
}
