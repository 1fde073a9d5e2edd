/** The page's live services: database, API, sync engine and the triggers that start a sync. */

import { useEffect, useState } from 'preact/hooks';

import { createApi } from './api/client.js';
import { declineAlerts, outboxSize, readSession, saveProfile, storeSession } from './data/index.js';
import { clearLocalData, deleteLocalDb, onBlocking, openLocalDb } from './db/index.js';
import { createSyncEngine } from './sync/engine.js';
import { deviceId, discardRejected, enqueue, resendSetAside } from './sync/outbox.js';
import { createScheduler } from './sync/scheduler.js';
import { chosenLang, setLang } from './i18n/index.js';
import { checkForUpdate } from './sw-register.js';

/** @type {import('./db/index.js').LocalDb} */
let db;
/** @type {import('./api/client.js').Api} */
let api;
/** @type {ReturnType<typeof createScheduler>} */
let scheduler;

/** While visible and online, sync this often even with nothing to send (others' changes). */
const VISIBLE_SYNC_EVERY_MS = 2 * 60 * 1000;

/** @type {{syncing: boolean, report: import('./sync/engine.js').SyncReport|null}} */
const status = { syncing: false, report: null };
/** @type {Set<() => void>} */
const statusListeners = new Set();
function setStatus(/** @type {Partial<typeof status>} */ change) {
  Object.assign(status, change);
  statusListeners.forEach((listener) => listener());
}

/** Open everything and wire the sync triggers; call once before rendering. */
export async function boot() {
  db = await openLocalDb();
  api = createApi({ db });
  const engine = createSyncEngine({ db, api });
  scheduler = createScheduler({
    engine: {
      async sync() {
        setStatus({ syncing: true });
        try {
          return await engine.sync();
        } finally {
          setStatus({ syncing: false });
        }
      },
    },
    onReport: (report) => {
      setStatus({ report });
      if (report.status === 'outdated') checkForUpdate();
      // The phone was signed out by an administrator and its data wiped: say so.
      if (report.status === 'revoked') location.assign('/login?revoked=1');
      if (report.status === 'ok') refreshProfile();
    },
  });
  onBlocking(() => location.reload());

  window.addEventListener('online', () => syncNow());
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') syncNow();
  });
  setInterval(() => {
    if (document.visibilityState === 'visible' && navigator.onLine) syncNow();
  }, VISIBLE_SYNC_EVERY_MS);
  if (navigator.storage && navigator.storage.persist) {
    // Ask once; Chrome decides silently from engagement, and settings show the answer.
    navigator.storage.persisted().then((persisted) => persisted || navigator.storage.persist());
  }
  return db;
}

export function getDb() {
  return db;
}

export function getApi() {
  return api;
}

/** Sync now if logged in; failures retry by themselves with backoff. */
export async function syncNow() {
  const session = await readSession(db);
  if (!session || !session.access_token) return null;
  return scheduler.run();
}

/**
 * Save a change on the phone first, then send it when a signal allows.
 * @param {Parameters<typeof enqueue>[1]} change
 */
export async function saveChange(change) {
  const mutation = await enqueue(db, change);
  requestBackgroundSync();
  if (navigator.onLine) syncNow();
  return mutation;
}

/**
 * Drop a change in needs attention the person chose not to fix.
 * @param {number} key  its key in the needs-attention list
 */
export function discardChange(key) {
  return discardRejected(db, key);
}

/**
 * Send a change that was set aside again, now.
 * @param {number} key  its key in the needs-attention list
 */
export async function sendAgain(key) {
  await resendSetAside(db, key);
  return syncNow();
}

/** The person said "not now" to meeting alerts: ask again only a week later. */
export function notNowToAlerts() {
  return declineAlerts(db, Date.now());
}

function requestBackgroundSync() {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.ready
    .then((registration) => /** @type {any} */ (registration).sync?.register('outbox'))
    .catch(() => {
      // Not offered (Firefox, Safari) or refused: the page's own triggers still run.
    });
}

/** The person's profile and, for a block president, the booths of the block. */
async function refreshProfile() {
  try {
    const session = await readSession(db);
    if (!session || !session.access_token) return;
    // The answer carries the server's role lists (roles.js): kept for offline use.
    const me = await api.get('/api/me');
    await saveProfile(db, { me });
    if (session.user.role !== 'volunteer') await saveProfile(db, { units: await api.get('/api/units/tree') });
  } catch {
    // Offline, or an older server: what we have stays.
  }
}

function deviceName() {
  const ua = navigator.userAgent;
  const os = /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Linux/.test(ua) ? 'Linux' : 'Web';
  const browser = /Firefox\//.test(ua) ? 'Firefox' : /Chrom/.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : 'Browser';
  return `${browser} on ${os}`;
}

/**
 * Log in. Logging in as someone else on a phone with unsent changes is refused, so one
 * person's entries never go out under another's name.
 * @param {string} phone
 * @param {string} password
 */
export async function logIn(phone, password) {
  const previous = await readSession(db);
  const waiting = await outboxSize(db);
  const session = await api.login(phone, password, await deviceId(db), deviceName());
  if (previous && previous.user && previous.user.id !== session.user.id) {
    if (waiting) {
      await api.logout();
      await storeSession(db, previous);
      throw Object.assign(new Error('other account'), { code: 'other_account_waiting' });
    }
    await clearLocalData(db, { keepDevice: true });
    await storeSession(db, session);
  }
  // A language picked on this phone wins and is saved to the account; otherwise the
  // account's language (picked on another phone) applies here too.
  const chosen = chosenLang();
  if (chosen && chosen !== session.user.language) api.patch('/api/me', { language: chosen }).catch(() => {});
  else if (!chosen && session.user.language) setLang(session.user.language);
  await refreshProfile();
  syncNow();
  return session;
}

/** Log out: end the session on the server and wipe this phone's copy of the data. */
export async function logOut() {
  await api.logout();
  scheduler.stop();
  await deleteLocalDb();
  location.assign('/login');
}

/** Whether a sync is running, and how the last one went. */
export function useSyncStatus() {
  const [, tick] = useState(0);
  useEffect(() => {
    const listener = () => tick((n) => n + 1);
    statusListeners.add(listener);
    return () => {
      statusListeners.delete(listener);
    };
  }, []);
  return status;
}

/** navigator.onLine, kept current. */
export function useOnline() {
  const [online, setOnline] = useState(navigator.onLine);
  useEffect(() => {
    const up = () => setOnline(true);
    const down = () => setOnline(false);
    window.addEventListener('online', up);
    window.addEventListener('offline', down);
    return () => {
      window.removeEventListener('online', up);
      window.removeEventListener('offline', down);
    };
  }, []);
  return online;
}
