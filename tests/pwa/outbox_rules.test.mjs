/** The outbox's own rules: ids, the device id, which edits fold together, sending a
 * set-aside change again, discarding a rejected one. */

import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';

import { dbModule, freshDb, outboxModule } from './helpers.mjs';

const { enqueue, waiting, needingAttention, discardRejected, resendSetAside, deviceId, newId, toWire } = outboxModule;
const { META, OUTBOX, ATTENTION } = dbModule;
const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let db;
beforeEach(async () => {
  db = await freshDb();
});
afterEach(() => {
  delete crypto.randomUUID;
  delete crypto.getRandomValues;
});

test('ids come from the platform when it can make them', () => {
  crypto.randomUUID = () => '11111111-2222-4333-8444-555555555555';
  assert.equal(newId(), '11111111-2222-4333-8444-555555555555');
});

test('without the platform UUID (plain http), ids are UUID v4 made from random bytes', () => {
  crypto.randomUUID = undefined;
  const ids = Array.from({ length: 50 }, () => newId());
  assert.ok(ids.every((id) => UUID4.test(id)), ids.find((id) => !UUID4.test(id)));
  assert.equal(new Set(ids).size, 50);
  const fill = (value) => (bytes) => bytes.fill(value);
  crypto.getRandomValues = fill(0xff);
  assert.equal(newId(), 'ffffffff-ffff-4fff-bfff-ffffffffffff');
  crypto.getRandomValues = fill(0);
  assert.equal(newId(), '00000000-0000-4000-8000-000000000000');
  let n = 0;
  crypto.getRandomValues = (bytes) => bytes.map(() => n++);
  assert.equal(newId(), '00010203-0405-4607-8809-0a0b0c0d0e0f');
});

test('the device id is made once, kept, and stamps every change', async () => {
  const first = await deviceId(db);
  assert.match(first, UUID4);
  assert.equal(await deviceId(db), first);
  assert.equal(await db.get(META, 'device_id'), first);

  const other = await freshDb();
  const m = await enqueue(other, { entity: 'member', id: 'a', fields: { name: 'A' } });
  const device = await other.get(META, 'device_id');
  assert.match(device, UUID4);
  assert.ok(m.hlc.endsWith(`-${device}`));
  assert.equal(await deviceId(other), device);
});

test('an edit never folds into a pending delete, nor a delete into a pending edit', async () => {
  await enqueue(db, { entity: 'member', id: 'a', fields: { name: 'A' } });
  await enqueue(db, { entity: 'member', id: 'a', op: 'delete' });
  await enqueue(db, { entity: 'member', id: 'a', fields: { name: 'back' } });
  await enqueue(db, { entity: 'member', id: 'b', fields: { name: 'B' } });
  await enqueue(db, { entity: 'member', id: 'a', fields: { age: 20 } });
  const entries = await waiting(db);
  assert.deepEqual(entries.map((m) => [m.seq, m.id, m.op, m.fields]), [
    [1, 'a', 'upsert', { name: 'A' }],
    [2, 'a', 'delete', undefined],
    [3, 'a', 'upsert', { name: 'back', age: 20 }],
    [4, 'b', 'upsert', { name: 'B' }],
  ]);
  assert.deepEqual(Object.keys(toWire(entries[1])).sort(), ['base_version', 'entity', 'hlc', 'id', 'op', 'seq']);
});

test('a rejected change the person gives up on leaves needs-attention', async () => {
  await db.put(ATTENTION, { seq: 3, entity: 'member', id: 'a', op: 'upsert', fields: {}, error: { code: 'x' } });
  await db.put(ATTENTION, { seq: 4, entity: 'member', id: 'b', op: 'upsert', fields: {}, error: { code: 'x' } });
  await discardRejected(db, 3);
  assert.deepEqual((await needingAttention(db)).map((m) => m.id), ['b']);
});

async function setAsideEntry(key, change) {
  await db.put(ATTENTION, { seq: key, base_version: 4, hlc: 'h', created_at: 1, set_aside: true, error: {}, ...change });
}

test('a set-aside change sent again keeps its base version and the fields not changed since', async () => {
  await db.put(META, 5, 'seq');
  await setAsideEntry(2.5, { entity: 'member', id: 'a', op: 'upsert', fields: { name: 'A', age: 20, notes: 'n' } });
  const sent = await enqueue(db, { entity: 'member', id: 'a', fields: { age: 21 } });
  await db.put(OUTBOX, { ...sent, sent: true });
  await enqueue(db, { entity: 'member', id: 'other', op: 'delete' });
  await resendSetAside(db, 2.5);
  assert.deepEqual(await needingAttention(db), []);
  const entries = await waiting(db);
  assert.deepEqual(entries.map((m) => [m.seq, m.id, m.op, m.base_version, m.fields]), [
    [6, 'a', 'upsert', null, { age: 21 }],
    [7, 'other', 'delete', null, undefined],
    [8, 'a', 'upsert', 4, { name: 'A', notes: 'n' }],
  ]);
});

test('a set-aside change is not sent again when the person deleted the record or changed all of it since', async () => {
  await setAsideEntry(0.5, { entity: 'member', id: 'deleted', op: 'upsert', fields: { name: 'A' } });
  await setAsideEntry(1.5, { entity: 'member', id: 'rewritten', op: 'upsert', fields: { name: 'B' } });
  await enqueue(db, { entity: 'member', id: 'deleted', op: 'delete' });
  const rewrite = await enqueue(db, { entity: 'member', id: 'rewritten', fields: { name: 'C' } });
  await db.put(OUTBOX, { ...rewrite, sent: true });
  await resendSetAside(db, 0.5);
  await resendSetAside(db, 1.5);
  assert.deepEqual(await needingAttention(db), []);
  assert.deepEqual((await waiting(db)).map((m) => [m.seq, m.id, m.op]), [[1, 'deleted', 'delete'], [2, 'rewritten', 'upsert']]);
});

test('a set-aside delete is sent again as a delete; an unknown key changes nothing', async () => {
  await setAsideEntry(0.5, { entity: 'member', id: 'gone', op: 'delete' });
  await enqueue(db, { entity: 'member', id: 'gone-too', fields: { name: 'x' } });
  await resendSetAside(db, 7.5);
  assert.equal((await needingAttention(db)).length, 1);
  await resendSetAside(db, 0.5);
  assert.deepEqual((await waiting(db)).map((m) => [m.seq, m.id, m.op, m.base_version]), [
    [1, 'gone-too', 'upsert', null],
    [2, 'gone', 'delete', 4],
  ]);
  assert.equal((await db.get(OUTBOX, 2)).fields, undefined);
});
