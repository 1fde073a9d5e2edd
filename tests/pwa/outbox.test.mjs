/** The outbox numbers changes without gaps, in order, and the overlay shows them over server state. */

import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';

import { dbModule, freshDb, hlcModule, outboxModule, overlayModule } from './helpers.mjs';

const { enqueue, waiting } = outboxModule;
const { listShown, getShown, overlay } = overlayModule;

let db;
beforeEach(async () => {
  db = await freshDb();
});

test('changes are numbered from 1 without gaps, in the order they were made', async () => {
  const ids = ['m-a', 'm-b', 'm-c'];
  for (const id of ids) await enqueue(db, { entity: 'member', id, fields: { name: id } });
  const entries = await waiting(db);
  assert.deepEqual(entries.map((m) => m.seq), [1, 2, 3]);
  assert.deepEqual(entries.map((m) => m.id), ids);
  assert.equal(await db.get(dbModule.META, 'seq'), 3);
});

test('stamps keep increasing when the phone clock stands still or goes back', async () => {
  const times = [5_000_000_000_000, 5_000_000_000_000, 4_999_999_999_000];
  const stamps = [];
  for (const [i, t] of times.entries()) {
    const m = await enqueue(db, { entity: 'member', id: `m-${i}`, fields: {} }, { now: () => t });
    stamps.push(m.hlc);
  }
  assert.deepEqual([...stamps].sort(), stamps);
  assert.equal(new Set(stamps).size, 3);
  const device = await db.get(dbModule.META, 'device_id');
  assert.ok(stamps.every((s) => s.endsWith(device)));
});

test('the clock never runs below the last server stamp seen', () => {
  const seen = hlcModule.formatHlc(9_000_000_000_000, 7, 'server');
  const mine = hlcModule.laterHlc(hlcModule.formatHlc(1_000, 0, 'dev'), seen);
  const next = hlcModule.nextHlc(mine, 2_000, 'dev');
  assert.ok(next > seen.replace('server', 'dev'));
  assert.ok(next.startsWith('9000000000000-0008-'));
});

test('edits saved before sending fold into one mutation; after sending they get a new seq', async () => {
  await enqueue(db, { entity: 'member', id: 'm-1', fields: { name: 'राम', age: 20 } });
  await enqueue(db, { entity: 'member', id: 'm-1', fields: { age: 21 } });
  let entries = await waiting(db);
  assert.equal(entries.length, 1);
  assert.deepEqual(entries[0].fields, { name: 'राम', age: 21 });

  await db.put(dbModule.OUTBOX, { ...entries[0], sent: true });
  await enqueue(db, { entity: 'member', id: 'm-1', fields: { age: 22 } });
  entries = await waiting(db);
  assert.deepEqual(entries.map((m) => m.seq), [1, 2]);
  assert.deepEqual(entries[1].fields, { age: 22 });
  assert.equal(entries[0].fields.age, 21, 'a sent mutation is never changed');
});

test('a mutation records the server version the phone last saw', async () => {
  await db.put(dbModule.RECORDS, { entity: 'member', id: 'm-1', version: 4, record: { id: 'm-1', name: 'A' } });
  const edit = await enqueue(db, { entity: 'member', id: 'm-1', fields: { name: 'B' } });
  const create = await enqueue(db, { entity: 'member', id: 'm-2', fields: { name: 'C' } });
  assert.equal(edit.base_version, 4);
  assert.equal(create.base_version, null);
});

test('pending changes are laid over server state, in seq order', async () => {
  await db.put(dbModule.RECORDS, {
    entity: 'member',
    id: 'm-1',
    version: 2,
    record: { id: 'm-1', name: 'सीता', age: 20, status: 'pending' },
  });
  await db.put(dbModule.RECORDS, { entity: 'member', id: 'm-2', version: 1, record: { id: 'm-2', name: 'गीता' } });
  await enqueue(db, { entity: 'member', id: 'm-1', fields: { age: 23 } });
  await enqueue(db, { entity: 'member', id: 'm-2', op: 'delete' });
  await enqueue(db, { entity: 'member', id: 'm-3', fields: { name: 'नया', age: 19 } });

  const shown = await listShown(db, 'member');
  const byId = Object.fromEntries(shown.map((s) => [s.record.id, s]));
  assert.deepEqual(Object.keys(byId).sort(), ['m-1', 'm-3'], 'a pending delete hides the record');
  assert.equal(byId['m-1'].record.name, 'सीता');
  assert.equal(byId['m-1'].record.age, 23);
  assert.equal(byId['m-1'].state, 'waiting');
  assert.equal(byId['m-3'].record.name, 'नया');
  assert.equal(byId['m-3'].version, null);

  const one = await getShown(db, 'member', 'm-1');
  assert.equal(one.record.age, 23);
  assert.equal(await getShown(db, 'member', 'm-2'), null);
});

test('overlay applies mutations by seq even when given out of order', () => {
  const shown = overlay({ id: 'x', a: 1, b: 1 }, [
    { seq: 3, op: 'upsert', id: 'x', fields: { a: 3 } },
    { seq: 2, op: 'upsert', id: 'x', fields: { a: 2, b: 2 } },
  ]);
  assert.deepEqual(shown, { id: 'x', a: 3, b: 2, deleted: false });
});

test('a record with an unresolved conflict shows as in conflict', async () => {
  await db.put(dbModule.RECORDS, { entity: 'member', id: 'm-1', version: 3, record: { id: 'm-1', name: 'A' } });
  await db.put(dbModule.CONFLICTS, { id: 'c-1', entity: 'member', record_id: 'm-1', resolved: false });
  await db.put(dbModule.CONFLICTS, { id: 'c-2', entity: 'member', record_id: 'm-1', resolved: true });
  const shown = await getShown(db, 'member', 'm-1');
  assert.equal(shown.state, 'conflict');
  assert.deepEqual(shown.conflicts.map((c) => c.id), ['c-1']);
});
