/** The client sync engine: push the outbox, pull what changed, per docs/protocol.md. */

import {
  ATTENTION,
  CONFLICTS,
  JOURNAL,
  META,
  OUTBOX,
  RECORDS,
  announceChange,
  atomically,
  clearLocalData,
} from '../db/index.js';
import { ApiError } from '../api/client.js';
import { laterHlc } from './hlc.js';
import { withLock } from './locks.js';
import { countFault, countSuccess, isServerFault, readTrouble, batchLimit, setAside } from './faults.js';
import { deviceId, renumberFrom, toWire } from './outbox.js';
import { journalAnswered, latestJournaled, requeueFrom } from './journal.js';

export { JOURNAL_DAYS } from './journal.js';

const SCHEMA_VERSION = 1;
/** The server takes at most 500 mutations and 1 MiB a push; stay under both. */
const PUSH_MAX_MUTATIONS = 500;
const PUSH_MAX_BYTES = 900 * 1024;
export const PULL_LIMIT = 500;
/** The longest `Retry-After` obeyed: a wrong header must not stop syncing for days. */
const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

/** @typedef {import('../db/index.js').Mutation} Mutation */
/**
 * @typedef {object} SyncReport
 * @property {'ok'|'offline'|'login'|'revoked'|'outdated'|'error'} status
 * @property {number} pushed  mutations the server answered
 * @property {number} pulled  changes stored from pulls
 * @property {ApiError} [error]
 * @property {number} [retryAt]  the server asked for no sync before this time (`Retry-After`)
 * @property {boolean} [deferred]  nothing was sent: it is not yet `retryAt`
 */

/**
 * Delay before retry number `attempt` (0-based): exponential, capped, with jitter so that
 * a thousand phones regaining signal together do not all call at once.
 * @param {number} attempt
 * @param {() => number} [random]
 * @param {{base?: number, cap?: number}} [limits]
 */
export function backoffDelay(attempt, random = Math.random, { base = 2000, cap = 5 * 60 * 1000 } = {}) {
  const ceiling = Math.min(cap, base * 2 ** Math.min(attempt, 20));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * Store one server record (or drop it) unless we already hold a newer version.
 * @param {import('idb').IDBPTransaction<any, any, 'readwrite'>} tx
 * @param {{entity: string, id: string, version?: number, record?: any, removed?: boolean, deleted?: boolean}} change
 */
async function storeChange(tx, change) {
  const isConflict = change.entity === 'conflict';
  const store = tx.objectStore(isConflict ? CONFLICTS : RECORDS);
  const key = isConflict ? change.id : [change.entity, change.id];
  // A deleted record stays (hidden) with its version: restoring it, or applying an edit
  // that lost to the delete, needs the version the phone saw. Only `removed` (out of
  // scope) drops it.
  if (change.removed || (isConflict && (change.deleted || change.record?.deleted))) {
    await store.delete(key);
    return;
  }
  const held = await store.get(key);
  // (A held version of null or undefined is never above another.)
  if (held && change.version != null && held.version > change.version) return;
  if (isConflict) await store.put({ ...change.record, id: change.id, version: change.version });
  else {
    const record = { ...change.record, deleted: !!(change.deleted || change.record?.deleted) };
    await store.put({ entity: change.entity, id: change.id, version: change.version, record });
  }
}

/**
 * @param {object} options
 * @param {import('../db/index.js').LocalDb} options.db
 * @param {import('../api/client.js').Api} options.api
 * @param {() => number} [options.now]
 */
export function createSyncEngine({ db, api, now = Date.now }) {
  /** Take the next batch and mark it sent, in one transaction with any later edit of it. */
  async function takeBatch(maxMutations) {
    const trouble = await readTrouble(db);
    const tx = db.transaction(OUTBOX, 'readwrite');
    const all = /** @type {Mutation[]} */ (await tx.store.getAll());
    maxMutations = batchLimit(trouble, all[0], maxMutations);
    const batch = [];
    let bytes = 0;
    for (const m of all) {
      const size = JSON.stringify(toWire(m)).length;
      if (batch.length >= maxMutations || (batch.length && bytes + size > PUSH_MAX_BYTES)) break;
      batch.push(m);
      bytes += size;
      await tx.store.put({ ...m, sent: true });
    }
    await tx.done;
    return { batch, more: all.length > batch.length };
  }

  /**
   * Apply a push answer: acknowledged entries leave the outbox, rejected ones wait for
   * the person with the server's reason, returned records replace our copies.
   * @param {Mutation[]} batch
   * @param {any} answer
   */
  async function applyPushAnswer(batch, answer) {
    const results = new Map(answer.results?.map((/** @type {any} */ r) => [r.seq, r]));
    await atomically(db, [OUTBOX, ATTENTION, RECORDS, CONFLICTS, META, JOURNAL], async (tx) => {
      for (const m of batch) {
        const result = results.get(m.seq);
        if (result?.status === 'rejected') {
          const { sent: _sent, ...kept } = m;
          await tx.objectStore(ATTENTION).put({ ...kept, error: result.error || { code: 'rejected' } });
        }
        if (result?.record) {
          await storeChange(tx, {
            entity: m.entity,
            id: result.id || m.id,
            version: result.version,
            record: result.record,
          });
        }
      }
      // Entries after the batch that last_seq covers (a push of one, or a halved one, when
      // an earlier answer was lost) were not answered here: they only become acknowledged.
      const lastSeq = answer.last_seq;
      if (typeof lastSeq === 'number') {
        const answered = Math.min(lastSeq, batch[batch.length - 1].seq);
        // Answered entries leave the outbox for the journal (re-sent after a restore).
        await journalAnswered(tx, answered, now());
      }
      await settleAcknowledged(tx, lastSeq);
      await observeServerClock(tx, answer.server_hlc);
    });
  }

  /**
   * A pull says the server has had every entry up to `lastSeq`, but this phone never saw
   * what became of those whose push answer was lost: applied, or rejected with a reason the
   * person must see. They stop counting as waiting and go out once more with the next push,
   * whose answer (duplicate, or rejected again with the reason) settles them. Clearing them
   * unseen, as the protocol allows, would lose a rejection silently.
   * @param {import('idb').IDBPTransaction<any, any, 'readwrite'>} tx
   * @param {number|undefined} lastSeq
   */
  async function settleAcknowledged(tx, lastSeq) {
    if (typeof lastSeq !== 'number') return;
    const outbox = tx.objectStore(OUTBOX);
    for (const m of await outbox.getAll(IDBKeyRange.upperBound(lastSeq))) await outbox.put({ ...m, acked: true });
  }

  /** @param {import('idb').IDBPTransaction<any, any, 'readwrite'>} tx */
  async function observeServerClock(tx, serverHlc) {
    const meta = tx.objectStore(META);
    await meta.put(laterHlc(await meta.get('hlc'), serverHlc), 'hlc');
  }

  /**
   * The server expects `expected` next but our outbox starts later (its entries below were
   * lost on the phone): number the outbox again from `expected`, which the server never saw.
   * @param {number} expected
   */
  async function renumber(expected) {
    await atomically(db, [OUTBOX, META], (tx) => renumberFrom(tx, expected));
  }

  /**
   * The server has lost entries it had answered (it was restored from a backup): put the
   * journal's entries from `first` on back into the outbox; how many.
   * @param {number} first
   */
  async function requeue(first) {
    let back = 0;
    await atomically(db, [OUTBOX, JOURNAL], async (tx) => {
      back = await requeueFrom(tx, first);
    });
    if (back) announceChange();
    return back;
  }

  /** @param {Mutation[]} batch */
  function send(device, batch) {
    return api.post('/api/sync/push', {
      device_id: device,
      schema_version: SCHEMA_VERSION,
      client_time: now(),
      mutations: batch.map(toWire),
    });
  }

  async function push() {
    const device = await deviceId(db);
    let answered = 0;
    let maxMutations = PUSH_MAX_MUTATIONS;
    let renumbered = false;
    let requeued = false;
    for (;;) {
      const { batch, more } = await takeBatch(maxMutations);
      if (!batch.length) return answered;
      let answer;
      try {
        answer = await send(device, batch);
      } catch (err) {
        if (err instanceof ApiError && err.code === 'seq_gap') {
          const expected = Number(err.fields.expected);
          if (expected > 0 && expected < batch[0].seq) {
            // What the server expects is in our journal: it has forgotten entries it had
            // answered (a restore). Send them again; else they were lost on the phone.
            if (!requeued && (await requeue(expected)) > 0) {
              requeued = true;
              continue;
            }
            if (!renumbered) {
              renumbered = true;
              await renumber(expected);
              continue;
            }
          }
        }
        if (err instanceof ApiError && err.code === 'too_large' && maxMutations > 1) {
          maxMutations = Math.max(1, Math.floor(batch.length / 2));
          continue;
        }
        if (err instanceof ApiError && isServerFault(err)) {
          const next = await countFault(db, batch);
          if (next === 'split') continue;
          if (next === 'set-aside') {
            // The device's last seq, once any push of it still running has finished: an
            // empty push waits for it. Should this fail too, the server is down, not
            // failing on this one change: nothing is set aside and we back off.
            const { last_seq: lastSeq } = await send(device, []);
            if (typeof lastSeq !== 'number') throw err;
            await setAside(db, batch[0], err, lastSeq);
            announceChange();
            continue;
          }
        }
        throw err;
      }
      await applyPushAnswer(batch, answer);
      await countSuccess(db, batch);
      answered += batch.length;
      announceChange();
      if (!more) return answered;
    }
  }

  async function pull() {
    let stored = 0;
    let resets = 0;
    for (;;) {
      const cursor = (await db.get(META, 'cursor')) || '';
      const page = await api.get(
        `/api/sync/pull?cursor=${encodeURIComponent(cursor)}&limit=${PULL_LIMIT}`,
      );
      if (page.reset) {
        // Our copies are from another scope or too old: start again, keep the outbox.
        await atomically(db, [RECORDS, CONFLICTS, META], async (tx) => {
          await tx.objectStore(RECORDS).clear();
          await tx.objectStore(CONFLICTS).clear();
          await tx.objectStore(META).put('', 'cursor');
        });
        announceChange();
        if (++resets > 3) throw new ApiError('reset_loop', 'The server keeps resetting.', 0);
        continue;
      }
      await atomically(db, [RECORDS, CONFLICTS, OUTBOX, META], async (tx) => {
        for (const change of page.changes || []) await storeChange(tx, change);
        await tx.objectStore(META).put(page.cursor, 'cursor');
        await settleAcknowledged(tx, page.last_seq);
        await observeServerClock(tx, page.server_hlc);
      });
      stored += (page.changes || []).length;
      announceChange();
      if (!page.has_more) {
        // A server that has forgotten answered entries (restored from a backup) is sent
        // them again by the push that follows the pull.
        if (typeof page.last_seq === 'number') {
          const latest = await latestJournaled(db.transaction(JOURNAL));
          if (page.last_seq < latest) await requeue(page.last_seq + 1);
        }
        return stored;
      }
    }
  }

  /** @returns {Promise<SyncReport>} */
  async function syncNow() {
    /** @type {SyncReport} */
    const report = { status: 'ok', pushed: 0, pulled: 0 };
    // The server said when to come back (503 or 429 with Retry-After): every trigger, in
    // the page or the worker, waits until then (unless the phone's clock was set back).
    const retryAt = await db.get(META, 'retry_at');
    if (retryAt > now() && retryAt - now() <= MAX_RETRY_AFTER_MS) {
      return { ...report, status: 'offline', retryAt, deferred: true };
    }
    try {
      report.pushed = await push();
      report.pulled = await pull();
      // Changes made while we pulled go out now rather than at the next trigger.
      report.pushed += await push();
      await db.put(META, now(), 'last_synced_at');
      await db.delete(META, 'last_error');
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      report.error = err;
      report.status = statusFor(err);
      if (report.status === 'revoked') await clearLocalData(db);
      else await db.put(META, { code: err.code, at: now() }, 'last_error');
      if (err.retryAfter !== undefined && (err.status === 503 || err.status === 429)) {
        report.retryAt = now() + Math.min(err.retryAfter * 1000, MAX_RETRY_AFTER_MS);
        await db.put(META, report.retryAt, 'retry_at');
      }
    }
    announceChange();
    return report;
  }

  /** @type {Promise<SyncReport>|null} */
  let running = null;
  let again = false;

  /**
   * Sync once, across tabs and the worker one at a time. A call while this context is
   * already syncing runs one more round after it, so no change waits for the next trigger.
   * @returns {Promise<SyncReport>}
   */
  function sync() {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      let report;
      do {
        again = false;
        report = await withLock('booth-connect-sync', syncNow);
      } while (again && report.status === 'ok');
      return report;
    })().finally(() => {
      running = null;
    });
    return running;
  }

  return { sync, push, pull };
}

/**
 * @param {ApiError} err
 * @returns {SyncReport['status']}
 */
function statusFor(err) {
  if (err.code === 'device_revoked') return 'revoked';
  if (err.code === 'client_outdated') return 'outdated';
  if (err.status === 401) return 'login';
  if (err.status === 0 || err.status >= 500 || err.status === 429 || err.status === 408) return 'offline';
  return 'error';
}
