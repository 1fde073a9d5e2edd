/**
 * The journal: every mutation the server has answered, kept for JOURNAL_DAYS after its
 * answer. A server restored from a backup has forgotten what phones sent after the backup;
 * when it shows that (a `seq_gap` whose `expected` the journal holds, or a `last_seq` below
 * the journal's latest seq), those entries go back into the outbox with their seqs, clocks
 * and bases unchanged and are sent again (docs/protocol.md, change 20).
 */

import { JOURNAL, OUTBOX } from '../db/index.js';

/** @typedef {import('../db/index.js').Mutation} Mutation */

export const JOURNAL_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Move the outbox entries up to `lastSeq` into the journal, stamped `now`, and forget
 * journal entries answered more than JOURNAL_DAYS ago.
 * @param {import('idb').IDBPTransaction<any, any, 'readwrite'>} tx  over OUTBOX and JOURNAL
 * @param {number} lastSeq
 * @param {number} now
 */
export async function journalAnswered(tx, lastSeq, now) {
  const outbox = tx.objectStore(OUTBOX);
  const journal = tx.objectStore(JOURNAL);
  const answered = /** @type {Mutation[]} */ (await outbox.getAll(IDBKeyRange.upperBound(lastSeq)));
  for (const m of answered) {
    const { sent: _sent, acked: _acked, ...kept } = m;
    await journal.put({ ...kept, answered_at: now });
  }
  await outbox.delete(IDBKeyRange.upperBound(lastSeq));
  // Answers come in seq order, so the oldest entries are first: stop at the first kept one.
  const cutoff = now - JOURNAL_DAYS * DAY_MS;
  let cursor = await journal.openCursor();
  while (cursor && cursor.value.answered_at < cutoff) {
    await cursor.delete();
    cursor = await cursor.continue();
  }
}

/**
 * Put the journal's entries from `first` on back into the outbox, to be sent again as
 * they were; answers how many.
 * @param {import('idb').IDBPTransaction<any, any, 'readwrite'>} tx  over OUTBOX and JOURNAL
 * @param {number} first
 */
export async function requeueFrom(tx, first) {
  const journal = tx.objectStore(JOURNAL);
  const outbox = tx.objectStore(OUTBOX);
  const back = await journal.getAll(IDBKeyRange.lowerBound(first));
  for (const m of back) {
    const { answered_at: _at, ...kept } = m;
    await outbox.put({ ...kept, sent: false, acked: false });
  }
  await journal.delete(IDBKeyRange.lowerBound(first));
  return back.length;
}

/**
 * The highest seq in the journal (0 when it is empty).
 * @param {import('idb').IDBPTransaction<any, any, any>} tx  over JOURNAL
 */
export async function latestJournaled(tx) {
  const cursor = await tx.objectStore(JOURNAL).openCursor(null, 'prev');
  return cursor ? Number(cursor.key) : 0;
}
