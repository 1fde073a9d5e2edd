/** What the engine keeps from each answer: pushed records, rejections, pull pages, the
 * server's clock, and answers that leave a field out. */

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { dbModule, outboxModule, setup } from './helpers.mjs';

const { enqueue, waiting, needingAttention } = outboxModule;
const { META, RECORDS, CONFLICTS, OUTBOX } = dbModule;

/** A JSON answer, as the server would send it. */
export const reply = (status, body, headers = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });

const pullPage = (changes, extra = {}) =>
  reply(200, { changes, cursor: 'c1', has_more: false, last_seq: 0, server_hlc: null, reset: false, ...extra });

test('a pull drops removed records and deleted conflicts, keeps deleted records hidden with their version', async () => {
  const { db, server, engine } = await setup();
  await db.put(RECORDS, { entity: 'member', id: 'gone', version: 1, record: { id: 'gone', name: 'G' } });
  await db.put(CONFLICTS, { id: 'c-top', entity: 'member', record_id: 'x', resolved: false, version: 1 });
  await db.put(CONFLICTS, { id: 'c-inner', entity: 'member', record_id: 'x', resolved: false, version: 1 });
  server.pull = () =>
    pullPage([
      { entity: 'member', id: 'gone', removed: true },
      { entity: 'conflict', id: 'c-top', version: 2, deleted: true, record: { id: 'c-top', resolved: true } },
      { entity: 'conflict', id: 'c-inner', version: 2, record: { id: 'c-inner', deleted: true } },
      { entity: 'conflict', id: 'c-new', version: 3, deleted: false, record: { entity: 'member', record_id: 'y', resolved: false } },
      { entity: 'member', id: 'del-top', version: 4, deleted: true, record: { id: 'del-top', name: 'D' } },
      { entity: 'member', id: 'del-inner', version: 5, record: { id: 'del-inner', name: 'E', deleted: true } },
      { entity: 'member', id: 'live', version: 6, deleted: false, record: { id: 'live', name: 'L' } },
      // Changes without a record body are stored, not a reason to stop pulling.
      { entity: 'member', id: 'bare', version: 7, deleted: false },
      { entity: 'conflict', id: 'c-bare', version: 8 },
    ]);
  assert.equal(await engine.pull(), 9);
  assert.equal(await db.get(RECORDS, ['member', 'gone']), undefined, 'out of scope: dropped');
  assert.deepEqual((await db.getAll(CONFLICTS)).map((c) => [c.id, c.version, c.record_id]), [
    ['c-bare', 8, undefined],
    ['c-new', 3, 'y'],
  ]);
  const kept = Object.fromEntries((await db.getAll(RECORDS)).map((r) => [r.id, [r.version, r.record.deleted]]));
  assert.deepEqual(kept, { 'del-top': [4, true], 'del-inner': [5, true], live: [6, false], bare: [7, false] });
  assert.equal(await db.get(META, 'cursor'), 'c1');
});

test('a change never replaces a newer version the phone holds; a newer or unversioned one does', async () => {
  const { db, server, engine } = await setup();
  for (const id of ['older', 'newer', 'plain']) {
    await db.put(RECORDS, { entity: 'member', id, version: 5, record: { id, name: 'five' } });
  }
  await db.put(CONFLICTS, { id: 'c-1', entity: 'member', record_id: 'x', resolved: false, version: 5 });
  server.pull = () =>
    pullPage([
      { entity: 'member', id: 'older', version: 4, deleted: false, record: { id: 'older', name: 'four' } },
      { entity: 'member', id: 'newer', version: 6, deleted: false, record: { id: 'newer', name: 'six' } },
      { entity: 'member', id: 'plain', version: null, deleted: false, record: { id: 'plain', name: 'none' } },
      { entity: 'conflict', id: 'c-1', version: 4, record: { entity: 'member', record_id: 'x', resolved: true } },
    ]);
  await engine.pull();
  const names = Object.fromEntries((await db.getAll(RECORDS)).map((r) => [r.id, r.record.name]));
  assert.deepEqual(names, { older: 'five', newer: 'six', plain: 'none' });
  assert.equal((await db.get(CONFLICTS, 'c-1')).resolved, false, 'an older conflict record is ignored too');
});

test('a pull page without changes or last_seq stores nothing and clears nothing', async () => {
  const { db, server, engine } = await setup();
  await enqueue(db, { entity: 'member', id: 'a', fields: { name: 'A', age: 20 } });
  server.pull = () => reply(200, { cursor: 'c9', has_more: false, reset: false });
  assert.equal(await engine.pull(), 0);
  assert.equal(await db.get(META, 'cursor'), 'c9');
  assert.deepEqual((await waiting(db)).map((m) => m.id), ['a']);
  assert.deepEqual(await db.getAll(RECORDS), []);
});

test('a push answer stores the returned records at their versions, under the mutation id when none is given', async () => {
  const { db, server, engine } = await setup();
  await enqueue(db, { entity: 'member', id: 'a', fields: { name: 'A', age: 20 } });
  await enqueue(db, { entity: 'member', id: 'b', fields: { name: 'B', age: 20 } });
  await enqueue(db, { entity: 'member', id: 'c', fields: { name: 'C', age: 20 } });
  server.push = (body) =>
    reply(200, {
      last_seq: 3,
      server_hlc: null,
      results: [
        { seq: 1, status: 'applied', id: 'a', version: 7, record: { id: 'a', name: 'A!' } },
        { seq: 2, status: 'applied', version: 2, record: { id: 'b', name: 'B!' } },
        { seq: 3, status: 'rejected', id: 'c', version: null, record: null },
      ].filter((r) => body.mutations.some((m) => m.seq === r.seq)),
    });
  assert.equal(await engine.push(), 3);
  const held = Object.fromEntries((await db.getAll(RECORDS)).map((r) => [r.id, [r.version, r.record.name]]));
  assert.deepEqual(held, { a: [7, 'A!'], b: [2, 'B!'] });
  const attention = await needingAttention(db);
  assert.deepEqual(attention.map((m) => [m.id, m.error, m.sent]), [['c', { code: 'rejected' }, undefined]]);
  assert.deepEqual(await db.getAll(OUTBOX), []);
});

test('a push answer that leaves out results still clears what last_seq covers', async () => {
  const { db, server, engine } = await setup();
  await enqueue(db, { entity: 'member', id: 'a', fields: { name: 'A', age: 20 } });
  await enqueue(db, { entity: 'member', id: 'b', fields: { name: 'B', age: 20 } });
  server.push = () => reply(200, { last_seq: 2, server_hlc: null });
  assert.equal(await engine.push(), 2);
  assert.deepEqual(await db.getAll(OUTBOX), []);
  assert.deepEqual(await needingAttention(db), []);
});

test('a push answer without last_seq clears nothing', async () => {
  const { db, server, engine } = await setup();
  await enqueue(db, { entity: 'member', id: 'a', fields: { name: 'A', age: 20 } });
  server.push = () => reply(200, { results: [], server_hlc: null });
  assert.equal(await engine.push(), 1);
  assert.deepEqual((await waiting(db)).map((m) => m.id), ['a']);
});

test('the phone clock never runs below a server stamp seen in a push answer or a pull', async () => {
  for (const how of ['push', 'pull']) {
    const { db, server, engine } = await setup();
    server.hlc = '9000000000000-0005-server';
    if (how === 'push') await enqueue(db, { entity: 'member', id: 'a', fields: { name: 'A', age: 20 } }, { now: () => 1000 });
    await engine[how]();
    const next = await enqueue(db, { entity: 'member', id: 'b', fields: { name: 'B' } }, { now: () => 2000 });
    assert.ok(next.hlc.startsWith('9000000000000-0006-'), `${how}: ${next.hlc}`);
  }
});

test('a server stamp older than the phone clock leaves it alone', async () => {
  const { db, server, engine } = await setup();
  await enqueue(db, { entity: 'member', id: 'a', fields: { name: 'A', age: 20 } }, { now: () => 5_000_000_000_000 });
  server.hlc = '1000000000000-0000-server';
  await engine.sync();
  const next = await enqueue(db, { entity: 'member', id: 'b', fields: { name: 'B' } }, { now: () => 2000 });
  assert.ok(next.hlc.startsWith('5000000000000-0001-'), next.hlc);
});
