/** What the screens read and write on the phone, and the sync figures they show, defined once. */

import { ATTENTION, CONFLICTS, META, OUTBOX, RECORDS, announceChange } from '../db/index.js';
import { needingAttention, pendingOnly, waiting } from '../sync/outbox.js';
import { getShown, openConflicts, stillOpen } from '../sync/overlay.js';

/** @typedef {import('../db/index.js').LocalDb} LocalDb */
/** @typedef {import('../db/index.js').Mutation} Mutation */
/** @typedef {import('../roles.js').RoleLists} RoleLists */
/**
 * @typedef {object} SyncCounts
 * @property {number} waiting  outbox entries still to take effect
 * @property {number} rejected  entries in needs attention: rejected, or set aside
 * @property {number} conflicts  conflicts still open for the person
 * @property {number} attention  what needs the person: rejected + conflicts
 */

/**
 * The counts every screen shows (home, sync screen, tab badge, settings, login), from one
 * reading of the stores.
 *
 * Waiting leaves out acknowledged outbox entries: a pull's last_seq covers them, so they
 * are in the server's state already and only stay to hear their outcome (settleAcknowledged
 * in sync/engine.js). Needs attention is every entry the server rejected or that was set
 * aside because the server kept failing on it (sync/faults.js), plus the conflicts not
 * resolved on the server and with no resolution waiting in the outbox (sync/overlay.js).
 * @param {LocalDb} db
 * @returns {Promise<SyncCounts>}
 */
export async function syncCounts(db) {
  const tx = db.transaction([OUTBOX, ATTENTION, CONFLICTS]);
  const [pending, rejected, conflicts] = await Promise.all([
    tx.objectStore(OUTBOX).getAll().then(pendingOnly),
    tx.objectStore(ATTENTION).count(),
    tx.objectStore(CONFLICTS).getAll(),
  ]);
  await tx.done;
  const open = stillOpen(conflicts, pending).length;
  return { waiting: pending.length, rejected, conflicts: open, attention: rejected + open };
}

/**
 * The counts with when the phone last synced and the last sync error.
 * @param {LocalDb} db
 */
export async function syncFigures(db) {
  return {
    ...(await syncCounts(db)),
    lastSynced: /** @type {number|undefined} */ (await db.get(META, 'last_synced_at')),
    lastError: /** @type {{code: string, at: number}|undefined} */ (await db.get(META, 'last_error')),
  };
}

/**
 * Every outbox entry, acknowledged ones included: switching accounts wipes the phone, and an
 * acknowledged entry's outcome (a rejection the person must see) is still to be heard.
 * @param {LocalDb} db
 */
export function outboxSize(db) {
  return db.count(OUTBOX);
}

/**
 * What the sync screen lists: waiting changes, those needing attention, the open conflicts
 * with the record each is about, and the pulled records by "entity:id" to name them.
 * @param {LocalDb} db
 */
export async function syncLists(db) {
  const [outbox, rejected, conflicts, records] = await Promise.all([
    waiting(db),
    needingAttention(db),
    openConflicts(db).then((open) =>
      Promise.all(open.map(async (conflict) => ({ conflict, shown: await getShown(db, conflict.entity, conflict.record_id) }))),
    ),
    db.getAll(RECORDS),
  ]);
  const byKey = new Map(records.map((r) => [`${r.entity}:${r.id}`, r.record]));
  return { outbox, rejected, conflicts, byKey };
}

/**
 * A change in needs attention, by its key there (a form opened to fix it); null when gone.
 * @param {LocalDb} db
 * @param {number} key
 * @returns {Promise<Mutation|null>}
 */
export async function rejectedChange(db, key) {
  return (await db.get(ATTENTION, key)) || null;
}

/**
 * The logged-in person's session (tokens and user), or null.
 * @param {LocalDb} db
 * @returns {Promise<import('../api/client.js').Session|null>}
 */
export async function readSession(db) {
  return (await db.get(META, 'session')) || null;
}

/**
 * Store a session as given, without telling the screens (the login flow does): the previous
 * one put back after a refused switch of account, or the new one after the wipe.
 * @param {LocalDb} db
 * @param {any} session
 */
export async function storeSession(db, session) {
  await db.put(META, session, 'session');
}

/**
 * The server's role lists, kept with its last /api/me answer; null when that answer is
 * missing or came from a server before role lists (see mayOpen in roles.js).
 * @param {LocalDb} db
 * @returns {Promise<RoleLists|null>}
 */
export async function readRoleLists(db) {
  const me = await db.get(META, 'me');
  return (me && me.role_lists) || null;
}

/**
 * The unit tree from /api/units/tree (a block's booths), or null when not held.
 * @param {LocalDb} db
 * @returns {Promise<import('../units.js').Unit|null>}
 */
export async function readUnits(db) {
  return (await db.get(META, 'units')) || null;
}

/**
 * Keep the person's /api/me answer and unit tree (either may be left out); the screens hear
 * of it only when something changed, since this runs after every sync.
 * @param {LocalDb} db
 * @param {{me?: any, units?: any}} profile
 */
export async function saveProfile(db, { me, units }) {
  const tx = db.transaction(META, 'readwrite');
  let changed = false;
  for (const [key, value] of /** @type {[string, any][]} */ ([['me', me], ['units', units]])) {
    if (!value) continue;
    if (JSON.stringify(await tx.store.get(key)) !== JSON.stringify(value)) changed = true;
    await tx.store.put(value, key);
  }
  await tx.done;
  if (changed) announceChange();
}

const ALERTS_DECLINED = 'push_declined_at';

/**
 * When the person last said "not now" to meeting alerts, or undefined.
 * @param {LocalDb} db
 * @returns {Promise<number|undefined>}
 */
export function alertsDeclinedAt(db) {
  return db.get(META, ALERTS_DECLINED);
}

/**
 * @param {LocalDb} db
 * @param {number} at
 */
export async function declineAlerts(db, at) {
  await db.put(META, at, ALERTS_DECLINED);
}
