/** The count of a failing push kept between syncs (faults.js): when a batch is split, when
 * one change is set aside, where it is kept and how the outbox behind it is numbered. */

import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';

import { dbModule, freshDb, outboxModule } from './helpers.mjs';

const faults = await import(new URL('../../pwa/src/sync/faults.js', import.meta.url).href);
const { countFault, countSuccess, batchLimit, setAside, isServerFault } = faults;
const { META, OUTBOX, ATTENTION } = dbModule;
const { enqueue, waiting } = outboxModule;

const TROUBLE = 'push_trouble';
const error = { code: 'internal_error', message: 'boom', status: 500 };
const batchOf = (...seqs) => seqs.map((seq) => ({ seq }));

let db;
beforeEach(async () => {
  db = await freshDb();
});

async function addMembers(n) {
  for (let i = 1; i <= n; i++) await enqueue(db, { entity: 'member', id: `m-${i}`, fields: { name: `n${i}` } });
}

test('server faults: 5xx but 503 and 504, and the database refusing a value', () => {
  const cases = [
    [500, 'internal_error', true],
    [502, 'bad_gateway', true],
    [503, 'unavailable', false],
    [504, 'gateway_timeout', false],
    [422, 'invalid_value', true],
    [422, 'validation_error', false],
    [499, 'invalid_value', false],
    [429, 'too_many_requests', false],
  ];
  for (const [status, code, fault] of cases) assert.equal(isServerFault({ status, code }), fault, `${status} ${code}`);
});

test('a batch is split on its third failure in a row; a different batch starts the count again', async () => {
  assert.equal(await countFault(db, batchOf(1, 2, 3)), 'wait');
  assert.equal(await countFault(db, batchOf(1, 2, 3)), 'wait');
  assert.deepEqual(await db.get(META, TROUBLE), { seq: 1, alone: false, fails: 2 });
  // Another first seq: the count starts again.
  assert.equal(await countFault(db, batchOf(2, 3)), 'wait');
  assert.deepEqual(await db.get(META, TROUBLE), { seq: 2, alone: false, fails: 1 });
  assert.equal(await countFault(db, batchOf(2, 3)), 'wait');
  assert.equal(await countFault(db, batchOf(2, 3, 4)), 'split');
  assert.deepEqual(await db.get(META, TROUBLE), { until: 4 });
});

test('a change sent alone is set aside on its third failure alone; failures in a batch do not count', async () => {
  await countFault(db, batchOf(1, 2));
  await countFault(db, batchOf(1, 2));
  assert.equal(await countFault(db, batchOf(1)), 'wait', 'the first failure of seq 1 alone');
  assert.deepEqual(await db.get(META, TROUBLE), { seq: 1, alone: true, fails: 1 });
  assert.equal(await countFault(db, batchOf(1)), 'wait');
  assert.equal(await countFault(db, batchOf(1)), 'set-aside');
  assert.equal(await countFault(db, batchOf(1)), 'set-aside');
});

test('one at a time while the first waiting change is within the split batch', () => {
  assert.equal(batchLimit({ until: 4 }, { seq: 3 }, 500), 1);
  assert.equal(batchLimit({ until: 4 }, { seq: 4 }, 500), 1);
  assert.equal(batchLimit({ until: 4 }, { seq: 5 }, 500), 500);
  assert.equal(batchLimit({ until: 4 }, undefined, 500), 500, 'nothing waiting');
  assert.equal(batchLimit({ seq: 1, fails: 2 }, { seq: 1 }, 500), 500);
  assert.equal(batchLimit({}, { seq: 1 }, 7), 7);
});

test('an answered push ends the failure count; the split lasts until its batch has gone', async () => {
  await countSuccess(db, batchOf(1));
  assert.equal(await db.get(META, TROUBLE), undefined);

  await db.put(META, { seq: 1, alone: false, fails: 2 }, TROUBLE);
  await countSuccess(db, batchOf(1, 2));
  assert.equal(await db.get(META, TROUBLE), undefined);

  await db.put(META, { until: 4, seq: 2, alone: true, fails: 1 }, TROUBLE);
  await countSuccess(db, batchOf(2));
  assert.deepEqual(await db.get(META, TROUBLE), { until: 4 });
  await countSuccess(db, batchOf(3));
  assert.deepEqual(await db.get(META, TROUBLE), { until: 4 });
  await countSuccess(db, batchOf(4));
  assert.equal(await db.get(META, TROUBLE), undefined);
});

test('setting aside a change the server never consumed numbers the rest from its seq', async () => {
  await addMembers(5);
  // Seqs 1 and 2 went through; 3 to 5 were sent in the batch that kept failing.
  await db.delete(OUTBOX, 1);
  await db.delete(OUTBOX, 2);
  for (const m of await db.getAll(OUTBOX)) await db.put(OUTBOX, { ...m, sent: true, acked: m.seq === 5 });
  await db.put(META, { until: 5, seq: 3, alone: true, fails: 3 }, TROUBLE);
  await setAside(db, await db.get(OUTBOX, 3), error, 2);
  const left = await db.getAll(OUTBOX);
  assert.deepEqual(left.map((m) => [m.seq, m.id, m.sent, m.acked]), [
    [3, 'm-4', false, false],
    [4, 'm-5', false, false],
  ]);
  assert.deepEqual((await waiting(db)).map((m) => m.id), ['m-4', 'm-5']);
  assert.equal(await db.get(META, 'seq'), 4);
  assert.deepEqual(await db.get(META, TROUBLE), { until: 4 }, 'the split batch moved down with it');
  const [aside] = await db.getAll(ATTENTION);
  assert.equal(aside.seq, 2.5);
  assert.deepEqual([aside.id, aside.set_aside, aside.sent, aside.acked], ['m-3', true, undefined, undefined]);
  assert.deepEqual(aside.error, error);
  // A later edit of a renumbered entry folds into it: the server never saw that seq.
  await enqueue(db, { entity: 'member', id: 'm-4', fields: { age: 30 } });
  assert.deepEqual((await waiting(db)).map((m) => m.seq), [3, 4]);
});

test('setting aside a change the server had consumed renumbers nothing', async () => {
  await addMembers(3);
  await db.put(META, { until: 3, seq: 2, alone: true, fails: 3 }, TROUBLE);
  await setAside(db, await db.get(OUTBOX, 2), error, 2);
  assert.deepEqual((await db.getAll(OUTBOX)).map((m) => [m.seq, m.id]), [[1, 'm-1'], [3, 'm-3']]);
  assert.equal(await db.get(META, 'seq'), 3);
  assert.deepEqual(await db.get(META, TROUBLE), { until: 3 });
});

test('the split ends with the set-aside change when nothing of its batch is left behind it', async () => {
  for (const [until, lastSeq, kept] of [[3, 2, undefined], [4, 2, { until: 3 }], [3, 3, undefined], [4, 3, { until: 4 }]]) {
    db = await freshDb();
    await addMembers(4);
    await db.put(META, { until }, TROUBLE);
    await setAside(db, await db.get(OUTBOX, 3), error, lastSeq);
    assert.deepEqual(await db.get(META, TROUBLE), kept, `until ${until}, server at ${lastSeq}`);
  }
  db = await freshDb();
  await addMembers(2);
  await setAside(db, await db.get(OUTBOX, 2), error, 1);
  assert.equal(await db.get(META, TROUBLE), undefined, 'no count kept: none made');
});

test('a change no longer waiting is not set aside', async () => {
  await addMembers(2);
  await setAside(db, { seq: 7, entity: 'member', id: 'x' }, error, 1);
  assert.deepEqual((await db.getAll(OUTBOX)).map((m) => m.seq), [1, 2]);
  assert.deepEqual(await db.getAll(ATTENTION), []);
});

test('set-aside keys fill the gap below the seq, and go below every key once it is full', async () => {
  const taken = [];
  for (let key = 0.5; key < 1; key = (key + 1) / 2) taken.push(key);
  for (const key of taken) await db.put(ATTENTION, { seq: key, entity: 'member', id: `old-${key}`, op: 'upsert' });
  // A rejection keeps the seq it was sent with.
  await db.put(ATTENTION, { seq: 1, entity: 'member', id: 'rejected', op: 'upsert' });
  await addMembers(1);
  await setAside(db, await db.get(OUTBOX, 1), error, 0);
  const keys = (await db.getAll(ATTENTION)).map((m) => m.seq);
  assert.equal(keys.length, taken.length + 2);
  assert.equal(keys[0], -1, 'below 0.5, the lowest key');

  await addMembers(1);
  await setAside(db, await db.get(OUTBOX, 1), error, 0);
  assert.equal((await db.getAll(ATTENTION))[0].seq, -2, 'below -1');
});
