/** What the lists and the record page show: rejected creations, rejected edits, conflicts
 * and their pending resolutions, each entity on its own. */

import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';

import { dbModule, freshDb, outboxModule, overlayModule } from './helpers.mjs';

const { enqueue } = outboxModule;
const { listShown, getShown, openConflicts, stillOpen } = overlayModule;
const { ATTENTION, CONFLICTS, RECORDS } = dbModule;

let db;
beforeEach(async () => {
  db = await freshDb();
});

const rejected = (seq, entity, id, op, fields) =>
  db.put(ATTENTION, { seq, entity, id, op, fields, base_version: null, hlc: 'h', created_at: 1, error: { code: 'x' } });
const byId = (shown) => Object.fromEntries(shown.map((s) => [s.record.id, s]));

test('a rejected creation is listed and shown as rejected; a rejected edit leaves the server state', async () => {
  await rejected(1, 'member', 'new', 'upsert', { name: 'नया', age: 15 });
  await rejected(2, 'grievance', 'new', 'upsert', { description: 'g' });
  await db.put(RECORDS, { entity: 'member', id: 'old', version: 3, record: { id: 'old', name: 'पुराना', age: 20 } });
  await rejected(3, 'member', 'old', 'upsert', { age: 40 });
  const list = byId(await listShown(db, 'member'));
  assert.deepEqual(Object.keys(list).sort(), ['new', 'old']);
  assert.equal(list.new.state, 'rejected');
  assert.equal(list.new.record.name, 'नया');
  assert.deepEqual(list.new.rejected.map((m) => m.seq), [1], 'only its own entity');
  assert.equal(list.old.state, 'rejected');
  assert.equal(list.old.record.age, 20);
  assert.equal(list.old.version, 3);
  for (const id of ['new', 'old']) {
    const one = await getShown(db, 'member', id);
    assert.deepEqual([one.record, one.state, one.version], [list[id].record, list[id].state, list[id].version]);
  }
  assert.equal((await getShown(db, 'grievance', 'new')).record.description, 'g');
});

test('a rejected creation is hidden by a pending delete, and a rejected delete shows nothing', async () => {
  await rejected(1, 'member', 'a', 'upsert', { name: 'A' });
  await enqueue(db, { entity: 'member', id: 'a', op: 'delete' });
  await rejected(2, 'member', 'b', 'delete');
  assert.deepEqual(await listShown(db, 'member'), []);
  assert.equal(await getShown(db, 'member', 'a'), null);
  assert.equal(await getShown(db, 'member', 'b'), null);
});

test('a rejected creation shows its fields even when a later rejected delete of it follows', async () => {
  await rejected(1, 'member', 'a', 'upsert', { name: 'A' });
  await rejected(2, 'member', 'a', 'delete');
  assert.equal((await getShown(db, 'member', 'a')).record.name, 'A');
  assert.equal((await listShown(db, 'member'))[0].record.name, 'A');
});

test('a rejected edit of a record deleted on the server shows nothing', async () => {
  await db.put(RECORDS, { entity: 'member', id: 'd', version: 2, record: { id: 'd', name: 'D', deleted: true } });
  await rejected(1, 'member', 'd', 'upsert', { name: 'E' });
  assert.deepEqual(await listShown(db, 'member'), []);
  assert.equal(await getShown(db, 'member', 'd'), null);
});

test('pending changes and conflicts of another entity with the same id stay with their own', async () => {
  await db.put(RECORDS, { entity: 'member', id: 'x', version: 1, record: { id: 'x', name: 'M' } });
  await enqueue(db, { entity: 'grievance', id: 'x', fields: { description: 'G' } });
  await db.put(CONFLICTS, { id: 'c-g', entity: 'grievance', record_id: 'x', resolved: false });
  await db.put(CONFLICTS, { id: 'c-m', entity: 'member', record_id: 'x', resolved: false });
  await db.put(CONFLICTS, { id: 'c-none', entity: 'member', record_id: 'unknown', resolved: false });
  const members = await listShown(db, 'member');
  assert.equal(members.length, 1);
  assert.equal(members[0].record.name, 'M');
  assert.deepEqual(members[0].pending, []);
  assert.deepEqual(members[0].conflicts.map((c) => c.id), ['c-m']);
  assert.equal(members[0].state, 'conflict');
  const [grievance] = await listShown(db, 'grievance');
  assert.deepEqual([grievance.record.description, grievance.state], ['G', 'conflict']);
  assert.deepEqual(grievance.conflicts.map((c) => c.id), ['c-g']);
});

test('a conflict stays open until a resolution of it is pending or the server marks it resolved', async () => {
  for (const id of ['c-1', 'c-2', 'c-3', 'c-4']) {
    await db.put(CONFLICTS, { id, entity: 'member', record_id: 'x', resolved: id === 'c-4' });
  }
  await enqueue(db, { entity: 'conflict', id: 'c-1', fields: { resolved: true } });
  await enqueue(db, { entity: 'conflict', id: 'c-2', fields: { resolved: false } });
  await enqueue(db, { entity: 'member', id: 'c-3', fields: { resolved: true } });
  await enqueue(db, { entity: 'conflict', id: 'c-3', op: 'delete' });
  assert.deepEqual((await openConflicts(db)).map((c) => c.id), ['c-2', 'c-3']);
  assert.deepEqual(stillOpen([{ id: 'c-9', resolved: false }], []).map((c) => c.id), ['c-9']);
});
