/** What the phone shows: server state with its own pending changes laid on top, in order. */

import { ATTENTION, CONFLICTS, OUTBOX, RECORDS } from '../db/index.js';
import { pendingOnly } from './outbox.js';

/** @typedef {import('../db/index.js').Mutation} Mutation */
/** @typedef {import('../db/index.js').Conflict} Conflict */
/** @typedef {import('../db/index.js').LocalDb} LocalDb */
/** @typedef {'synced'|'waiting'|'conflict'|'rejected'} SyncState */
/**
 * @typedef {object} ShownRecord
 * @property {Record<string, any>} record  the fields as the phone shows them
 * @property {SyncState} state
 * @property {number|null} version  the server version this phone last saw
 * @property {Mutation[]} pending
 * @property {Mutation[]} rejected
 * @property {Conflict[]} conflicts  unresolved conflict records about it
 */

/**
 * Lay pending mutations (in seq order) over a server record; a pending delete hides it.
 * @param {Record<string, any>|undefined|null} server
 * @param {Mutation[]} pending
 * @returns {Record<string, any>|null}
 */
export function overlay(server, pending) {
  let shown = server ? { ...server } : null;
  let hidden = !!(server && server.deleted);
  for (const m of [...pending].sort((a, b) => a.seq - b.seq)) {
    if (m.op === 'delete') hidden = true;
    else {
      // An edit after a delete brings the record back (the server restores it).
      shown = { ...(shown || { id: m.id, created_at: m.created_at }), ...m.fields, deleted: false };
      hidden = false;
    }
  }
  return hidden ? null : shown;
}

/**
 * @param {Mutation[]} pending
 * @param {Mutation[]} rejected
 * @param {any[]} conflicts
 * @returns {SyncState}
 */
function syncState(pending, rejected, conflicts) {
  if (rejected.length) return 'rejected';
  if (conflicts.length) return 'conflict';
  if (pending.length) return 'waiting';
  return 'synced';
}

/**
 * One record as the phone shows it: the server's state with the pending changes laid over
 * it, or, for a creation the server rejected (nothing else is known of it), its rejected
 * fields, so the person can fix them. A rejected edit is not laid over the server's state,
 * which it never changed.
 * @param {Record<string, any>|undefined|null} server
 * @param {Mutation[]} pending
 * @param {Mutation[]} rejected
 */
function shownRecord(server, pending, rejected) {
  const record = overlay(server, pending);
  if (record || server || pending.length) return record;
  return overlay(null, rejected.filter((m) => m.op === 'upsert'));
}

/**
 * Every record of an entity as the phone shows it, pending creations and rejected ones
 * included (see shownRecord).
 * @param {LocalDb} db
 * @param {string} entity
 * @returns {Promise<ShownRecord[]>}
 */
export async function listShown(db, entity) {
  const tx = db.transaction([RECORDS, OUTBOX, ATTENTION, CONFLICTS]);
  const [server, outbox, attention, conflicts] = await Promise.all([
    tx.objectStore(RECORDS).index('entity').getAll(entity),
    tx.objectStore(OUTBOX).getAll().then(pendingOnly),
    tx.objectStore(ATTENTION).getAll(),
    tx.objectStore(CONFLICTS).getAll(),
  ]);
  await tx.done;
  /** @type {Map<string, {server: any, version: number|null, pending: Mutation[], rejected: Mutation[], conflicts: any[]}>} */
  const byId = new Map();
  const entry = (/** @type {string} */ id) => {
    let e = byId.get(id);
    if (!e) {
      e = { server: null, version: null, pending: [], rejected: [], conflicts: [] };
      byId.set(id, e);
    }
    return e;
  };
  for (const row of server) Object.assign(entry(row.id), { server: row.record, version: row.version });
  for (const m of outbox) if (m.entity === entity) entry(m.id).pending.push(m);
  for (const m of attention) if (m.entity === entity) entry(m.id).rejected.push(m);
  // A conflict about a record not listed makes an entry that shows nothing.
  for (const c of stillOpen(conflicts, outbox)) if (c.entity === entity) entry(c.record_id).conflicts.push(c);
  /** @type {ShownRecord[]} */
  const shown = [];
  for (const e of byId.values()) {
    const record = shownRecord(e.server, e.pending, e.rejected);
    if (!record) continue;
    shown.push({
      record,
      state: syncState(e.pending, e.rejected, e.conflicts),
      version: e.version,
      pending: e.pending,
      rejected: e.rejected,
      conflicts: e.conflicts,
    });
  }
  return shown;
}

/**
 * One record as the phone shows it, or null when it is unknown or deleted.
 * @param {LocalDb} db
 * @param {string} entity
 * @param {string} id
 * @returns {Promise<ShownRecord|null>}
 */
export async function getShown(db, entity, id) {
  const tx = db.transaction([RECORDS, OUTBOX, ATTENTION, CONFLICTS]);
  const [row, pending, rejected, conflicts, resolutions] = await Promise.all([
    tx.objectStore(RECORDS).get([entity, id]),
    tx.objectStore(OUTBOX).index('record').getAll([entity, id]).then(pendingOnly),
    tx.objectStore(ATTENTION).index('record').getAll([entity, id]),
    tx.objectStore(CONFLICTS).index('record').getAll([entity, id]),
    tx.objectStore(OUTBOX).getAll().then(pendingOnly),
  ]);
  await tx.done;
  const open = stillOpen(conflicts, resolutions);
  const record = shownRecord(row?.record, pending, rejected);
  if (!record) return null;
  return {
    record,
    state: syncState(pending, rejected, open),
    version: row ? row.version : null,
    pending,
    rejected,
    conflicts: open,
  };
}

/**
 * Conflicts still open for the person: not resolved on the server, and no resolution
 * waiting in the outbox.
 * @param {LocalDb} db
 * @returns {Promise<Conflict[]>}
 */
export async function openConflicts(db) {
  const tx = db.transaction([CONFLICTS, OUTBOX]);
  const [conflicts, outbox] = await Promise.all([
    tx.objectStore(CONFLICTS).getAll(),
    tx.objectStore(OUTBOX).getAll().then(pendingOnly),
  ]);
  await tx.done;
  return stillOpen(conflicts, outbox);
}

/**
 * The conflicts of `conflicts` still open: not resolved on the server, and no resolution
 * among the `pending` outbox entries.
 * @param {Conflict[]} conflicts
 * @param {Mutation[]} pending
 */
export function stillOpen(conflicts, pending) {
  const resolving = new Set(
    pending.filter((m) => m.entity === 'conflict' && m.fields?.resolved === true).map((m) => m.id),
  );
  return conflicts.filter((c) => !c.resolved && !resolving.has(c.id));
}
