/**
 * A server bug must never wedge the phone. A push the server keeps failing (5xx) is sent
 * again with backoff; after SPLIT_AFTER failures its mutations go one at a time, in seq
 * order, so the good ones get through; a mutation that alone fails WITHDRAW_AFTER times is
 * set aside in "needs attention" with the error, and the outbox behind it is numbered
 * again from the seq it held, which the server never consumed (docs/protocol.md, "What the
 * app must do").
 */

import { ATTENTION, META, OUTBOX, atomically } from '../db/index.js';
import { renumberFrom } from './outbox.js';

/** Failures of one batch before its mutations are sent one at a time. */
const SPLIT_AFTER = 3;
/** Failures of one mutation sent alone before it is set aside. */
const WITHDRAW_AFTER = 3;
/** Where the count of failures is kept (shared by the page and the service worker). */
const TROUBLE = 'push_trouble';

/** @typedef {import('../db/index.js').Mutation} Mutation */
/**
 * @typedef {object} Trouble
 * @property {number} [seq]  first seq of the push that failed
 * @property {boolean} [alone]  that push held one mutation
 * @property {number} [fails]  how many times in a row it failed
 * @property {number} [until]  send one at a time while the first waiting seq is at most this
 */

/**
 * A failure that says something about the batch: the server answered with an error of its
 * own. Not `503` (the server saying "not now", with `Retry-After`) and not `504` (a proxy
 * gave up waiting while the server may still be applying it, so its seqs may yet be
 * consumed); no answer at all is being offline. `422 invalid_value` counts too: the
 * database refused a value the server's checks let through, and since a push is all or
 * nothing, the same batch would be refused for ever.
 * @param {any} err  an ApiError
 */
export function isServerFault(err) {
  if (err.status === 422 && err.code === 'invalid_value') return true;
  return err.status >= 500 && err.status !== 503 && err.status !== 504;
}

/** @param {import('../db/index.js').LocalDb} db */
export async function readTrouble(db) {
  return /** @type {Trouble} */ ((await db.get(META, TROUBLE)) || {});
}

/**
 * How many mutations the next push may hold.
 * @param {Trouble} trouble
 * @param {Mutation|undefined} first  the first waiting mutation
 * @param {number} max
 */
export function batchLimit(trouble, first, max) {
  // No split going on: `until` is undefined, and no seq is <= undefined.
  return first && first.seq <= trouble.until ? 1 : max;
}

/**
 * Count a server fault of the push of `batch`: 'wait' (back off and send it again),
 * 'split' (send its mutations one at a time, now) or 'set-aside' (its one mutation).
 * @param {import('../db/index.js').LocalDb} db
 * @param {Mutation[]} batch
 * @returns {Promise<'wait'|'split'|'set-aside'>}
 */
export async function countFault(db, batch) {
  const trouble = await readTrouble(db);
  const seq = batch[0].seq;
  const alone = batch.length === 1;
  const fails = (trouble.seq === seq && trouble.alone === alone ? trouble.fails || 0 : 0) + 1;
  if (!alone && fails >= SPLIT_AFTER) {
    await db.put(META, { until: batch[batch.length - 1].seq }, TROUBLE);
    return 'split';
  }
  await db.put(META, { ...trouble, seq, alone, fails }, TROUBLE);
  return alone && fails >= WITHDRAW_AFTER ? 'set-aside' : 'wait';
}

/**
 * A push of `batch` was answered: the failures are over; one-at-a-time sending goes on
 * until the batch that failed has gone through.
 * @param {import('../db/index.js').LocalDb} db
 * @param {Mutation[]} batch
 */
export async function countSuccess(db, batch) {
  const { until } = await readTrouble(db);
  // Without a split `until` is undefined, and no seq is below undefined.
  if (batch[batch.length - 1].seq < until) await db.put(META, { until }, TROUBLE);
  else await db.delete(META, TROUBLE);
}

/**
 * Move `m`, which the server keeps failing on alone, to "needs attention" with the error.
 *
 * `serverLastSeq` is the device's last consumed seq, read from the server after the
 * failures (an empty push, which waits for any push of this device still running). If the
 * server never consumed `m`, every waiting mutation after it is numbered again from `m`'s
 * seq, so the server sees no gap; if it did (the failure came after its commit), nothing is
 * renumbered. The set-aside entry is keyed just below the seq it held (seq - 1/2, then
 * seq - 1/4 ... if that seq is set aside again), never by a seq the server could answer.
 * It goes out again only as a new mutation, when the person sends it again or fixes it.
 * @param {import('../db/index.js').LocalDb} db
 * @param {Mutation} m
 * @param {{code: string, message: string, status: number}} error
 * @param {number} serverLastSeq
 */
export async function setAside(db, m, error, serverLastSeq) {
  await atomically(db, [OUTBOX, ATTENTION, META], async (tx) => {
    const outbox = tx.objectStore(OUTBOX);
    const held = /** @type {Mutation|undefined} */ (await outbox.get(m.seq));
    if (!held) return;
    await outbox.delete(m.seq);
    const { sent: _sent, acked: _acked, ...kept } = held;
    const key = await keyBelow(tx.objectStore(ATTENTION), m.seq);
    const { code, message, status } = error;
    await tx.objectStore(ATTENTION).put({ ...kept, seq: key, set_aside: true, error: { code, message, status } });
    const trouble = /** @type {Trouble} */ ((await tx.objectStore(META).get(TROUBLE)) || {});
    let until = trouble.until;
    if (serverLastSeq < m.seq) {
      await renumberFrom(tx, serverLastSeq + 1);
      if (until !== undefined) until -= m.seq - serverLastSeq;
    }
    if (until > serverLastSeq) await tx.objectStore(META).put({ until }, TROUBLE);
    else await tx.objectStore(META).delete(TROUBLE);
  });
}

/**
 * A free key in (seq - 1, seq), after any set aside there before; below every key if none.
 * @param {any} store  the ATTENTION store of a readwrite transaction
 * @param {number} seq
 */
async function keyBelow(store, seq) {
  let key = seq - 0.5;
  while (key < seq && (await store.count(key))) key = (key + seq) / 2;
  if (key < seq) return key;
  const lowest = await store.openCursor();
  return Math.min(0, lowest ? Number(lowest.key) : 0) - 1;
}
