/** The screens' data layer: the waiting and needs-attention counts, and the server's role lists. */

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { dbModule, freshDb, outboxModule, setup } from './helpers.mjs';

const src = (path) => new URL(`../../pwa/src/${path}`, import.meta.url).href;
const { saveProfile, syncCounts, syncLists, readRoleLists } = await import(src('data/index.js'));
const { mayOpen } = await import(src('roles.js'));

const { ATTENTION, CONFLICTS, OUTBOX } = dbModule;
const { enqueue } = outboxModule;

async function addMembers(db, n, prefix = 'm') {
  for (let i = 0; i < n; i += 1) {
    await enqueue(db, { entity: 'member', id: `${prefix}-${i}`, fields: { name: `युवा ${i}`, age: 20 } });
  }
}

test('acknowledged outbox entries are not counted as waiting', async () => {
  const { db, server, engine } = await setup();
  await addMembers(db, 3);
  server.loseNextAnswers = 1;
  await engine.sync();
  await addMembers(db, 1, 'later');
  await engine.pull();
  // Three entries stay in the outbox only to hear their outcome: the server has them.
  assert.equal(await db.count(OUTBOX), 4);
  const counts = await syncCounts(db);
  assert.equal(counts.waiting, 1);
  assert.equal(counts.attention, 0);
  const lists = await syncLists(db);
  assert.deepEqual(lists.outbox.map((m) => m.id), ['later-0'], 'the sync screen lists what the count counts');
});

test('needs attention counts rejected and set-aside changes and open conflicts', async () => {
  const { db, server, engine } = await setup();
  await enqueue(db, { entity: 'member', id: 'too-young', fields: { name: 'बाल', age: 16 } });
  await engine.sync();
  assert.equal(server.get('member', 'too-young'), undefined);
  await db.put(ATTENTION, {
    seq: 0.5,
    entity: 'member',
    op: 'upsert',
    id: 'stuck',
    base_version: null,
    hlc: 'x',
    created_at: 1,
    fields: { name: 'अटका' },
    set_aside: true,
    error: { code: 'internal_error', message: '', status: 500 },
  });
  const conflict = (id, fields = {}) => ({ id, entity: 'member', record_id: 'm-1', kind: 'field', resolved: false, ...fields });
  await db.put(CONFLICTS, conflict('open'));
  await db.put(CONFLICTS, conflict('resolved-on-server', { resolved: true }));
  await db.put(CONFLICTS, conflict('being-resolved'));
  await enqueue(db, { entity: 'conflict', id: 'being-resolved', fields: { resolved: true } });

  const counts = await syncCounts(db);
  assert.deepEqual(counts, { waiting: 1, rejected: 2, conflicts: 1, attention: 3 });
  const lists = await syncLists(db);
  assert.equal(lists.rejected.length + lists.conflicts.length, counts.attention);
  assert.deepEqual(lists.conflicts.map((c) => c.conflict.id), ['open']);
});

test('reviewer screens follow the server role lists, kept with the /api/me answer', async () => {
  const db = await freshDb();
  const approvals = { path: '/approvals', roles: 'reviewers' };
  assert.equal(await readRoleLists(db), null);
  assert.equal(mayOpen(approvals, 'block_president', null), false, 'hidden until the lists arrive');
  assert.equal(mayOpen({ path: '/members' }, 'volunteer', null), true);

  const reviewers = ['block_president', 'district_president', 'connect_centre', 'admin'];
  const roleLists = { reviewers, leaders: reviewers, full_personal_data: ['volunteer', 'block_president'] };
  await saveProfile(db, { me: { user: { id: 1, role: 'connect_centre' }, role_lists: roleLists } });
  const lists = await readRoleLists(db);
  assert.deepEqual(lists, roleLists);
  assert.equal(mayOpen(approvals, 'connect_centre', lists), true);
  assert.equal(mayOpen(approvals, 'volunteer', lists), false);

  // A /api/me answer from a server before role lists: no reviewer screens until the next one.
  await saveProfile(db, { me: { user: { id: 1, role: 'block_president' } } });
  assert.equal(await readRoleLists(db), null);
  assert.equal(mayOpen(approvals, 'block_president', await readRoleLists(db)), false);
});

test('the profile tells the screens only when it changed', async () => {
  const db = await freshDb();
  let heard = 0;
  const off = dbModule.onChange(() => {
    heard += 1;
  });
  // Heard here and through the other-tabs channel: wait for both.
  const settle = () => new Promise((resolve) => setTimeout(resolve, 50));
  try {
    const me = { user: { id: 1 }, role_lists: { reviewers: ['admin'] } };
    await saveProfile(db, { me });
    await settle();
    const once = heard;
    assert.ok(once > 0);
    await saveProfile(db, { me: structuredClone(me) });
    await settle();
    assert.equal(heard, once, 'the same answer again is not news');
    await saveProfile(db, { units: { id: 7, type: 'block', children: [] } });
    await settle();
    assert.ok(heard > once);
  } finally {
    off();
  }
});
