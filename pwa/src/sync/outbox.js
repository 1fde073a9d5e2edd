/** The outbox: every change made on the phone, numbered and stamped, saved before it is shown. */

import { ATTENTION, META, OUTBOX, RECORDS, announceChange, atomically } from '../db/index.js';
import { nextHlc } from './hlc.js';

/** @typedef {import('../db/index.js').Mutation} Mutation */

/** A UUID v4, from the platform when it has one. */
export function newId() {
  if (crypto.randomUUID) return crypto.randomUUID(); // only in secure contexts (https)
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The installation's device id, made once and kept. */
export async function deviceId(db) {
  const tx = db.transaction(META, 'readwrite');
  let id = await tx.store.get('device_id');
  if (!id) {
    id = newId();
    await tx.store.put(id, 'device_id');
  }
  await tx.done;
  return id;
}

/**
 * Record a change in the outbox, in one transaction with the seq and clock it uses.
 *
 * An upsert of a record whose latest outbox entry has not gone out yet is folded into
 * that entry (same seq), so a form saved five times offline is one mutation; an entry
 * already sent is never changed, since the server may have applied it.
 *
 * @param {import('../db/index.js').LocalDb} db
 * @param {Change} change
 * @param {{now?: () => number}} [options]
 * @returns {Promise<Mutation>}
 */
export async function enqueue(db, change, { now = Date.now } = {}) {
  /** @type {Mutation|undefined} */
  let mutation;
  // One transaction: a seq is used only if its mutation is stored with it (no gaps).
  await atomically(db, [OUTBOX, META, RECORDS], async (tx) => {
    mutation = await enqueueIn(tx, change, now());
  });
  announceChange();
  return /** @type {Mutation} */ (mutation);
}

/**
 * @typedef {{entity: string, op?: 'upsert'|'delete', id: string, fields?: Record<string, any>,
 *            baseVersion?: number|null}} Change
 */

/**
 * enqueue() inside a transaction over OUTBOX, META and RECORDS.
 * @param {import('idb').IDBPTransaction<any, any, 'readwrite'>} tx
 * @param {Change} change
 * @param {number} at
 */
async function enqueueIn(tx, change, at) {
  const op = change.op || 'upsert';
  const meta = tx.objectStore(META);
  const outbox = tx.objectStore(OUTBOX);
  let device = await meta.get('device_id');
  if (!device) {
    device = newId();
    await meta.put(device, 'device_id');
  }
  const hlc = nextHlc(await meta.get('hlc'), at, device);
  await meta.put(hlc, 'hlc');

  /** @type {Mutation} */
  let mutation;
  const pending = await outbox.index('record').getAll([change.entity, change.id]);
  const last = pending[pending.length - 1];
  if (op === 'upsert' && last && last.op === 'upsert' && !last.sent) {
    mutation = { ...last, hlc, fields: { ...last.fields, ...change.fields } };
  } else {
    const seq = ((await meta.get('seq')) || 0) + 1;
    await meta.put(seq, 'seq');
    const server = await tx.objectStore(RECORDS).get([change.entity, change.id]);
    const baseVersion =
      change.baseVersion !== undefined ? change.baseVersion : server ? server.version : null;
    mutation = {
      seq,
      entity: change.entity,
      op,
      id: change.id,
      base_version: baseVersion,
      hlc,
      created_at: at,
    };
    if (op === 'upsert') mutation.fields = { ...change.fields };
  }
  await outbox.put(mutation);
  return mutation;
}

/**
 * Number the whole outbox again from `first`, in order: seqs the server never consumed.
 * @param {import('idb').IDBPTransaction<any, any, 'readwrite'>} tx  over OUTBOX and META
 * @param {number} first
 */
export async function renumberFrom(tx, first) {
  const outbox = tx.objectStore(OUTBOX);
  const all = /** @type {Mutation[]} */ (await outbox.getAll());
  await outbox.clear();
  let seq = first;
  for (const m of all) await outbox.put({ ...m, seq: seq++, sent: false, acked: false });
  await tx.objectStore(META).put(seq - 1, 'seq');
}

/** Every waiting mutation, in seq order (not those the server has acknowledged). */
export async function waiting(db) {
  return pendingOnly(/** @type {Mutation[]} */ (await db.getAll(OUTBOX)));
}

/**
 * Entries still to take effect: an acknowledged one (see settleAcknowledged in engine.js)
 * is in the server's state already and only waits to hear its outcome.
 * @param {Mutation[]} entries
 */
export function pendingOnly(entries) {
  return entries.filter((m) => !m.acked);
}

/** Mutations the server rejected, with its reasons, in seq order. */
export function needingAttention(db) {
  return /** @type {Promise<Mutation[]>} */ (db.getAll(ATTENTION));
}

/** Drop a rejected mutation the person chose not to fix. */
export async function discardRejected(db, seq) {
  await db.delete(ATTENTION, seq);
  announceChange();
}

/**
 * Send a change the server kept failing on (set aside, see faults.js) again, as a new
 * mutation at the end of the outbox. Its base version stays the one it was made against;
 * what the person did to the record since then wins: fields changed again keep their newer
 * values, and a later delete stays a delete.
 * @param {import('../db/index.js').LocalDb} db
 * @param {number} key  its key in the needs-attention list
 */
export async function resendSetAside(db, key) {
  await atomically(db, [OUTBOX, META, RECORDS, ATTENTION], async (tx) => {
    const m = /** @type {Mutation|undefined} */ (await tx.objectStore(ATTENTION).get(key));
    if (!m) return;
    await tx.objectStore(ATTENTION).delete(key);
    const newer = /** @type {Mutation[]} */ (await tx.objectStore(OUTBOX).index('record').getAll([m.entity, m.id]));
    if (newer.some((later) => later.op === 'delete')) return;
    const fields = { ...m.fields };
    for (const later of newer) for (const field of Object.keys(later.fields || {})) delete fields[field];
    if (m.op === 'upsert' && !Object.keys(fields).length) return;
    await enqueueIn(tx, { entity: m.entity, op: m.op, id: m.id, fields, baseVersion: m.base_version }, Date.now());
  });
  announceChange();
}

/**
 * The wire form of a mutation: only what the protocol names.
 * @param {Mutation} m
 */
export function toWire(m) {
  /** @type {Record<string, any>} */
  const wire = {
    seq: m.seq,
    entity: m.entity,
    op: m.op,
    id: m.id,
    base_version: m.base_version,
    hlc: m.hlc,
  };
  if (m.op === 'upsert') wire.fields = m.fields;
  return wire;
}
