/** The phone's own database: names, version and upgrade steps of every IndexedDB store. */

import { openDB, deleteDB } from 'idb';

const DB_NAME = 'booth-connect';
const DB_VERSION = 2;

/** Server records as last pulled, keyed by [entity, id]: `{entity, id, version, record}`. */
export const RECORDS = 'records';
/** Mutations not yet acknowledged by the server, keyed by `seq`. */
export const OUTBOX = 'outbox';
/**
 * Mutations the server rejected, kept with its reason until fixed or discarded, by `seq`;
 * and those set aside because the server kept failing on them, keyed just below their seq.
 */
export const ATTENTION = 'attention';
/** Conflict records made by the server (values that lost a merge), keyed by id. */
export const CONFLICTS = 'conflicts';
/** Single values by name: device id, seq, hlc, cursor, session, last sync. */
export const META = 'meta';
/**
 * Mutations the server has answered, by `seq`, each with `answered_at`, kept for
 * JOURNAL_DAYS (sync/journal.js): a server restored from a backup is sent them again.
 */
export const JOURNAL = 'journal';

/** @type {StoreName[]} */
export const ALL_STORES = [RECORDS, OUTBOX, ATTENTION, CONFLICTS, META, JOURNAL];

/**
 * @typedef {object} Mutation
 * @property {number} seq
 * @property {string} entity
 * @property {'upsert'|'delete'} op
 * @property {string} id
 * @property {number|null} base_version
 * @property {string} hlc
 * @property {Record<string, any>} [fields]
 * @property {number} created_at  when it was made on the phone
 * @property {boolean} [sent]  true once it has gone out in a push (the answer may be lost)
 * @property {boolean} [acked]  a pull's last_seq covers it: applied or rejected, outcome unheard
 * @property {{code: string, message: string, fields?: object, status?: number}} [error]  why it
 *   was rejected, or the server's error when it kept failing on it
 * @property {boolean} [set_aside]  in needs attention because the server kept failing on it
 *   (keyed below the seq it held, which went to the next change; see sync/faults.js)
 */

/**
 * A server record as last pulled; `record.deleted` marks one deleted on the server.
 * @typedef {{entity: string, id: string, version: number|null, record: Record<string, any>}} ServerRecord
 */

/**
 * A conflict record made by the server (values that lost a merge), as pulled.
 * @typedef {{id: string, entity: string, record_id: string, kind?: string, resolved?: boolean,
 *            version?: number, lost?: Record<string, any>, kept?: Record<string, any>}} Conflict
 */

/**
 * Every store of the phone's database, its key and value, and its indexes. The `meta`
 * store holds single values under these names: device_id, seq, hlc, cursor, session, me
 * (the /api/me answer, with the server's role lists), units (the unit tree), last_synced_at,
 * last_error, retry_at, push_trouble, push_declined_at.
 * @typedef {import('idb').DBSchema & {
 *   records: {key: [string, string], value: ServerRecord, indexes: {entity: string}},
 *   outbox: {key: number, value: Mutation, indexes: {record: [string, string]}},
 *   attention: {key: number, value: Mutation, indexes: {record: [string, string]}},
 *   conflicts: {key: string, value: Conflict, indexes: {record: [string, string]}},
 *   meta: {key: string, value: any},
 *   journal: {key: number, value: Mutation & {answered_at: number}},
 * }} BoothDB
 */

/** @typedef {import('idb').IDBPDatabase<BoothDB>} LocalDb */
/** @typedef {import('idb').StoreNames<BoothDB>} StoreName */

/**
 * Each step brings a database from version N-1 to N; never edit a step once released,
 * add the next one, so a phone that skipped releases upgrades through every step.
 * @param {LocalDb} db
 * @param {number} oldVersion
 */
function upgrade(db, oldVersion) {
  if (oldVersion < 1) {
    const records = db.createObjectStore(RECORDS, { keyPath: ['entity', 'id'] });
    records.createIndex('entity', 'entity');
    const outbox = db.createObjectStore(OUTBOX, { keyPath: 'seq' });
    outbox.createIndex('record', ['entity', 'id']);
    const attention = db.createObjectStore(ATTENTION, { keyPath: 'seq' });
    attention.createIndex('record', ['entity', 'id']);
    const conflicts = db.createObjectStore(CONFLICTS, { keyPath: 'id' });
    conflicts.createIndex('record', ['entity', 'record_id']);
    db.createObjectStore(META);
  }
  if (oldVersion < 2) {
    db.createObjectStore(JOURNAL, { keyPath: 'seq' });
  }
}

/** @type {Promise<LocalDb>|null} */
let opening = null;
/** @type {Set<() => void>} */
const blockingListeners = new Set();

/** Called when a newer release (another tab, or the new service worker) needs to upgrade. */
export function onBlocking(listener) {
  blockingListeners.add(listener);
  return () => blockingListeners.delete(listener);
}

/** The shared connection, opened (and upgraded) on first use. */
export function openLocalDb() {
  if (!opening) {
    opening = openDB(DB_NAME, DB_VERSION, {
      upgrade,
      blocking() {
        // Let the newer version upgrade: close ours and tell the app to reload.
        closeLocalDb();
        blockingListeners.forEach((listener) => listener());
      },
      terminated() {
        opening = null;
      },
    });
    opening.catch(() => {
      opening = null;
    });
  }
  return opening;
}

async function closeLocalDb() {
  if (opening) {
    const pending = opening;
    opening = null;
    try {
      (await pending).close();
    } catch {
      // It never opened: nothing to close.
    }
  }
}

/** Remove the whole database (a revoked device, or logging out). */
export async function deleteLocalDb() {
  await closeLocalDb();
  await deleteDB(DB_NAME);
}

/**
 * Run `steps` in one readwrite transaction that commits all or nothing. A request that
 * throws synchronously (a bad key) does not abort a transaction by itself, so abort it
 * here: otherwise half a page would be committed.
 * @param {LocalDb} db
 * @param {StoreName[]} stores
 * @param {(tx: import('idb').IDBPTransaction<any, any, 'readwrite'>) => Promise<void>} steps
 */
export async function atomically(db, stores, steps) {
  const tx = db.transaction(stores, 'readwrite');
  try {
    await steps(tx);
  } catch (err) {
    try {
      tx.abort();
    } catch {
      // Already aborted by the failed request.
    }
    await tx.done.catch(() => {});
    throw err;
  }
  await tx.done;
}

/** Empty every store but keep the device's identity and seq, so numbering never restarts. */
export async function clearLocalData(db, { keepDevice = false } = {}) {
  const tx = db.transaction(ALL_STORES, 'readwrite');
  const kept = keepDevice
    ? {
        device_id: await tx.objectStore(META).get('device_id'),
        seq: await tx.objectStore(META).get('seq'),
        hlc: await tx.objectStore(META).get('hlc'),
      }
    : {};
  await Promise.all(ALL_STORES.map((name) => tx.objectStore(name).clear()));
  for (const [key, value] of Object.entries(kept)) {
    if (value !== undefined) await tx.objectStore(META).put(value, key);
  }
  await tx.done;
  announceChange();
}

const CHANNEL = 'booth-connect-data';
/** @type {Set<() => void>} */
const localListeners = new Set();

/** Tell this page, other tabs and the service worker that local data changed. */
export function announceChange() {
  localListeners.forEach((listener) => listener());
  if (typeof BroadcastChannel !== 'undefined') {
    const channel = new BroadcastChannel(CHANNEL);
    channel.postMessage('changed');
    channel.close();
  }
}

/**
 * Call `listener` whenever local data changes here or in another tab or the worker.
 * @param {() => void} listener
 * @returns {() => void} unsubscribe
 */
export function onChange(listener) {
  localListeners.add(listener);
  /** @type {BroadcastChannel|null} */
  let channel = null;
  if (typeof BroadcastChannel !== 'undefined') {
    channel = new BroadcastChannel(CHANNEL);
    channel.onmessage = () => listener();
  }
  return () => {
    localListeners.delete(listener);
    channel?.close();
  };
}
