/** The client sync engine against a fake server: push, pull, retries, cursors, session ends. */

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { apiModule, dbModule, engineModule, outboxModule, overlayModule, schedulerModule, setup } from './helpers.mjs';

const { enqueue, waiting, needingAttention } = outboxModule;
const { META, RECORDS, OUTBOX, JOURNAL } = dbModule;

async function addMembers(db, n, prefix = 'm') {
  for (let i = 0; i < n; i++) {
    await enqueue(db, { entity: 'member', id: `${prefix}-${i}`, fields: { name: `युवा ${i}`, age: 20 } });
  }
}

test('a sync pushes the outbox in seq order, empties it and stores the server records', async () => {
  const { db, server, engine } = await setup();
  await addMembers(db, 3);
  const report = await engine.sync();
  assert.equal(report.status, 'ok');
  assert.deepEqual(await waiting(db), []);
  const push = server.requests.find((r) => r.path === '/api/sync/push');
  assert.deepEqual(push.body.mutations.map((m) => m.seq), [1, 2, 3]);
  assert.equal(push.body.schema_version, 1);
  assert.equal(push.body.device_id, await db.get(META, 'device_id'));
  assert.equal(server.get('member', 'm-2').name, 'युवा 2');
  const held = await db.get(RECORDS, ['member', 'm-2']);
  assert.equal(held.version, 1);
  assert.ok(await db.get(META, 'last_synced_at'));
});

test('a lost push answer keeps the outbox; the retry is answered as duplicate, applied once', async () => {
  const { db, server, engine } = await setup();
  await addMembers(db, 2);
  server.loseNextAnswers = 1;
  const first = await engine.sync();
  assert.equal(first.status, 'offline');
  assert.equal((await waiting(db)).length, 2, 'nothing is assumed when the answer is lost');
  assert.equal(server.get('member', 'm-0').version, 1);

  const second = await engine.sync();
  assert.equal(second.status, 'ok');
  assert.deepEqual(await waiting(db), []);
  assert.equal(server.get('member', 'm-0').version, 1, 'the retry did not apply it twice');
  const pushes = server.requests.filter((r) => r.path === '/api/sync/push');
  assert.deepEqual(pushes[0].body.mutations, pushes[1].body.mutations, 'the same batch is sent again');
});

test('a pull clears entries the server acknowledged in last_seq', async () => {
  const { db, server, engine } = await setup();
  await addMembers(db, 3);
  server.loseNextAnswers = 1;
  await engine.sync();
  assert.equal((await waiting(db)).length, 3);
  await engine.pull();
  assert.deepEqual(await waiting(db), []);
  // They go out once more to hear what became of them, then leave the outbox for good.
  await engine.sync();
  assert.deepEqual(await db.getAll(OUTBOX), []);
});

test('a rejection whose answer was lost still reaches needs-attention after last_seq clears it', async () => {
  const { db, server, engine } = await setup();
  await enqueue(db, { entity: 'member', id: 'too-young', fields: { name: 'बाल', age: 16 } });
  server.loseNextAnswers = 1;
  await engine.sync();
  await engine.pull();
  assert.deepEqual(await waiting(db), []);
  await engine.sync();
  const attention = await needingAttention(db);
  assert.deepEqual(attention.map((m) => [m.id, m.error.code]), [['too-young', 'validation_error']]);
  assert.deepEqual(await db.getAll(OUTBOX), []);
});

test('only entries up to last_seq are cleared; later ones stay', async () => {
  const { db, server, engine } = await setup();
  await addMembers(db, 2);
  server.loseNextAnswers = 1;
  await engine.sync();
  await addMembers(db, 1, 'later');
  await engine.pull();
  const left = await waiting(db);
  assert.deepEqual(left.map((m) => [m.seq, m.id]), [[3, 'later-0']]);
});

test('a server error leaves everything in the outbox, and the next sync sends it', async () => {
  const { db, server, engine } = await setup();
  await addMembers(db, 1);
  server.failNext = 1;
  assert.equal((await engine.sync()).status, 'offline');
  assert.equal((await waiting(db)).length, 1);
  assert.equal(server.get('member', 'm-0'), undefined);
  assert.equal((await engine.sync()).status, 'ok');
  assert.equal(server.get('member', 'm-0').name, 'युवा 0');
});

test('pulls page by page and stores each page with its cursor', async () => {
  const { db, server, engine } = await setup();
  for (let i = 0; i < 1200; i++) server.seed('member', `s-${i}`, { name: `n${i}` });
  await engine.pull();
  const pulls = server.requests.filter((r) => r.path === '/api/sync/pull');
  assert.equal(pulls.length, 3);
  assert.equal((await db.getAll(RECORDS)).length, 1200);
  assert.equal(await db.get(META, 'cursor'), '1200');
});

test('a page that cannot be stored leaves neither its records nor its cursor', async () => {
  const { db, server, engine } = await setup();
  for (let i = 0; i < 600; i++) server.seed('member', `s-${i}`, { name: `n${i}` });
  // A change the phone cannot store (no id): the whole second page must roll back.
  server.records.set('member:broken', { entity: 'member', id: undefined, version: 1, record: {} });
  server.log.splice(550, 0, 'member:broken');
  await assert.rejects(engine.pull());
  assert.equal(await db.get(META, 'cursor'), '500');
  assert.equal((await db.getAll(RECORDS)).length, 500);

  server.log.splice(550, 1);
  await engine.pull();
  assert.equal((await db.getAll(RECORDS)).length, 600);
});

test('a dropped connection between pages keeps the pages already stored', async () => {
  const { db, server } = await setup();
  for (let i = 0; i < 1100; i++) server.seed('member', `s-${i}`, { name: `n${i}` });
  let served = 0;
  const realFetch = server.fetch;
  server.fetch = async (url, init) => {
    if (url.includes('/api/sync/pull') && ++served === 2) throw new TypeError('Failed to fetch');
    return realFetch(url, init);
  };
  const api = apiModule.createApi({ db, fetch: (u, i) => server.fetch(u, i) });
  const flaky = engineModule.createSyncEngine({ db, api });
  assert.equal((await flaky.sync()).status, 'offline');
  assert.equal(await db.get(META, 'cursor'), '500');
  assert.equal((await flaky.sync()).status, 'ok');
  assert.equal((await db.getAll(RECORDS)).length, 1100);
});

test('a rejected mutation waits with its reason and does not block the ones after it', async () => {
  const { db, server, engine } = await setup();
  await enqueue(db, { entity: 'member', id: 'young', fields: { name: 'छोटा', age: 15 } });
  await enqueue(db, { entity: 'member', id: 'ok', fields: { name: 'ठीक', age: 25 } });
  assert.equal((await engine.sync()).status, 'ok');
  assert.deepEqual(await waiting(db), []);
  const attention = await needingAttention(db);
  assert.equal(attention.length, 1);
  assert.equal(attention[0].id, 'young');
  assert.equal(attention[0].error.code, 'validation_error');
  assert.equal(server.get('member', 'ok').name, 'ठीक');
  const shown = await overlayModule.getShown(db, 'member', 'young');
  assert.equal(shown.state, 'rejected');
  assert.equal(shown.record.name, 'छोटा', 'a rejected creation is still shown so it can be fixed');
});

test('two phones editing one field: the later stamp wins and the conflict is pulled', async () => {
  const { db, server, engine } = await setup({ now: () => 1_700_000_000_000 });
  server.seed('member', 'm-1', { name: 'पुराना', age: 20 });
  await engine.sync();
  await enqueue(db, { entity: 'member', id: 'm-1', fields: { name: 'मेरा' } }, { now: () => 1_700_000_000_000 });
  // Another phone changed the same field later.
  const held = server.records.get('member:m-1');
  held.meta.name = '1800000000000-0000-other';
  server.seed('member', 'm-1', { name: 'उनका' });
  assert.equal((await engine.sync()).status, 'ok');
  const shown = await overlayModule.getShown(db, 'member', 'm-1');
  assert.equal(shown.record.name, 'उनका');
  assert.equal(shown.state, 'conflict');
  assert.equal(shown.conflicts[0].lost.name, 'मेरा');
});

test('reset drops server copies, keeps the outbox and pulls again from the start', async () => {
  const { db, server, engine } = await setup();
  server.seed('member', 'a', { name: 'A' });
  await engine.pull();
  await db.put(RECORDS, { entity: 'member', id: 'stale', version: 1, record: { id: 'stale' } });
  await enqueue(db, { entity: 'member', id: 'mine', fields: { name: 'M', age: 20 } });
  server.loseNextAnswers = 0;
  server.resetNextPull = true;
  await engine.pull();
  const ids = (await db.getAll(RECORDS)).map((r) => r.id).sort();
  assert.deepEqual(ids, ['a']);
  assert.equal((await waiting(db)).length, 1);
});

test('an expired access token is refreshed once and the push goes through', async () => {
  const { db, server, engine } = await setup();
  await addMembers(db, 1);
  server.accessToken = 'access-rotated';
  server.refreshToken = 'refresh-1';
  assert.equal((await engine.sync()).status, 'ok');
  assert.equal(server.requests.filter((r) => r.path === '/api/auth/refresh').length, 1);
  const session = await db.get(META, 'session');
  assert.equal(session.refresh_token, server.refreshToken);
  assert.deepEqual(await waiting(db), []);
});

test('an ended session asks for login and never touches the outbox', async () => {
  const { db, server, engine } = await setup();
  await addMembers(db, 2);
  server.accessToken = 'elsewhere';
  server.refreshToken = 'elsewhere';
  const report = await engine.sync();
  assert.equal(report.status, 'login');
  assert.equal((await waiting(db)).length, 2);
  const session = await db.get(META, 'session');
  assert.equal(session.expired, true);
  assert.equal(session.access_token, undefined);
});

test('a revoked device wipes its local data', async () => {
  const { db, server, engine } = await setup();
  await addMembers(db, 2);
  server.seed('member', 'x', { name: 'X' });
  server.revoked = true;
  const report = await engine.sync();
  assert.equal(report.status, 'revoked');
  for (const store of dbModule.ALL_STORES) assert.equal((await db.getAll(store)).length, 0, store);
});

test('an outdated app is told so and keeps its outbox', async () => {
  const { db, server, engine } = await setup();
  await addMembers(db, 1);
  const realPush = server.push.bind(server);
  server.push = (body) => realPush({ ...body, schema_version: 99 });
  const report = await engine.sync();
  assert.equal(report.status, 'outdated');
  assert.equal((await waiting(db)).length, 1);
});

test('a seq gap renumbers the outbox from what the server expects', async () => {
  const { db, server, engine } = await setup();
  await db.put(META, 6, 'seq');
  await addMembers(db, 2);
  assert.deepEqual((await waiting(db)).map((m) => m.seq), [7, 8]);
  assert.equal((await engine.sync()).status, 'ok');
  assert.equal(server.lastSeq, 2);
  assert.equal(await db.get(META, 'seq'), 2);
  await addMembers(db, 1, 'next');
  assert.deepEqual((await waiting(db)).map((m) => m.seq), [3]);
});

test('a server restored from a backup is sent again, from the journal, what it forgot', async () => {
  const { db, server, engine } = await setup();
  await addMembers(db, 2, 'before');
  await engine.sync();
  const backup = server.snapshot();
  await addMembers(db, 2, 'after');
  await engine.sync();
  assert.deepEqual(await waiting(db), []);
  assert.deepEqual((await db.getAll(JOURNAL)).map((m) => m.seq), [1, 2, 3, 4]);
  server.restore(backup);
  await addMembers(db, 1, 'offline');
  assert.equal((await engine.sync()).status, 'ok');
  // seq 5 met seq_gap (expected 3): seqs 3 and 4 went again from the journal, as they were.
  assert.deepEqual(server.gaps, [{ expected: 3, got: 5 }]);
  assert.equal(server.lastSeq, 5);
  for (const id of ['after-0', 'after-1', 'offline-0']) assert.equal(server.get('member', id).version, 1);
  assert.deepEqual(await waiting(db), []);
  assert.equal(await db.get(META, 'seq'), 5);
  assert.equal((await db.getAll(RECORDS)).length, 5);
});

test('a pull whose last_seq is below the journal sends the forgotten entries again', async () => {
  const { db, server, engine } = await setup();
  await addMembers(db, 1, 'before');
  await engine.sync();
  const backup = server.snapshot();
  await addMembers(db, 2, 'after');
  await engine.sync();
  server.restore(backup);
  assert.equal((await engine.sync()).status, 'ok');
  assert.deepEqual(server.gaps, []);
  assert.equal(server.lastSeq, 3);
  assert.equal(server.get('member', 'after-1').name, 'युवा 1');
  assert.deepEqual((await db.getAll(JOURNAL)).map((m) => m.seq), [1, 2, 3]);
});

test('entries a pull puts back from the journal wait again like any change not yet sent', async () => {
  const { db, server, engine } = await setup();
  await addMembers(db, 1, 'before');
  await engine.sync();
  const backup = server.snapshot();
  await addMembers(db, 2, 'after');
  await engine.sync();
  server.restore(backup);
  await engine.pull();
  // Counted as waiting (the server has not got them) ...
  assert.deepEqual((await waiting(db)).map((m) => m.seq), [2, 3]);
  // ... and an edit of one of their records joins its entry, as with any unsent change.
  await enqueue(db, { entity: 'member', id: 'after-1', fields: { age: 31 } });
  assert.deepEqual((await waiting(db)).map((m) => m.seq), [2, 3]);
  assert.equal((await engine.sync()).status, 'ok');
  assert.equal(server.lastSeq, 3);
  assert.equal(server.get('member', 'after-1').name, 'युवा 1');
  assert.equal(server.get('member', 'after-1').age, 31);
});

test('the journal forgets entries answered more than 30 days ago', async () => {
  let clock = Date.UTC(2026, 0, 1);
  const { db, engine } = await setup({ now: () => clock });
  await addMembers(db, 2, 'old');
  await engine.sync();
  clock += (engineModule.JOURNAL_DAYS + 1) * 24 * 60 * 60 * 1000;
  await addMembers(db, 1, 'new');
  await engine.sync();
  assert.deepEqual((await db.getAll(JOURNAL)).map((m) => m.seq), [3]);
});

test('the journal keeps entries answered exactly 30 days ago, or less', async () => {
  const DAY = 24 * 60 * 60 * 1000;
  let clock = Date.UTC(2026, 0, 1);
  const { db, engine } = await setup({ now: () => clock });
  await addMembers(db, 1, 'first');
  await engine.sync();
  clock += DAY;
  await addMembers(db, 1, 'second');
  await engine.sync();
  // The first was answered 30 days before this sync, the second 29: both are kept.
  clock += (engineModule.JOURNAL_DAYS - 1) * DAY;
  await addMembers(db, 1, 'third');
  await engine.sync();
  assert.deepEqual((await db.getAll(JOURNAL)).map((m) => m.seq), [1, 2, 3]);
  // A millisecond later the first is past 30 days and goes; the second stays.
  clock += 1;
  await addMembers(db, 1, 'fourth');
  await engine.sync();
  assert.deepEqual((await db.getAll(JOURNAL)).map((m) => m.seq), [2, 3, 4]);
});

test('more than 500 waiting changes go in several pushes', async () => {
  const { db, server, engine } = await setup();
  const tx = db.transaction([OUTBOX, META], 'readwrite');
  for (let seq = 1; seq <= 1201; seq++) {
    tx.objectStore(OUTBOX).put({
      seq, entity: 'member', op: 'upsert', id: `bulk-${seq}`, base_version: null,
      hlc: `1700000000000-${seq.toString(16).padStart(4, '0')}-d`, fields: { name: 'x', age: 20 }, created_at: 1,
    });
  }
  tx.objectStore(META).put(1201, 'seq');
  await tx.done;
  assert.equal((await engine.sync()).status, 'ok');
  const sizes = server.requests.filter((r) => r.path === '/api/sync/push').map((r) => r.body.mutations.length);
  assert.deepEqual(sizes, [500, 500, 201]);
  assert.equal(server.lastSeq, 1201);
  assert.deepEqual(await waiting(db), []);
});

test('retries back off exponentially with jitter, and reset after a success', async () => {
  const timers = [];
  let outcome = 'offline';
  const scheduler = schedulerModule.createScheduler({
    engine: { sync: async () => ({ status: outcome, pushed: 0, pulled: 0 }) },
    setTimer: (fn, ms) => timers.push({ fn, ms }),
    clearTimer: () => {},
    random: () => 0.5,
  });
  await scheduler.run();
  for (let i = 0; i < 4; i++) await timers[timers.length - 1].fn();
  const delays = timers.map((t) => t.ms);
  assert.equal(delays.length, 5);
  for (let i = 1; i < delays.length; i++) assert.equal(delays[i], delays[i - 1] * 2);
  outcome = 'ok';
  await scheduler.run();
  assert.equal(scheduler.attempt, 0);
  assert.equal(timers.length, 5, 'no retry is scheduled after a success');

  const low = engineModule.backoffDelay(3, () => 0);
  const high = engineModule.backoffDelay(3, () => 0.999999);
  assert.ok(low >= 8000 && high <= 16000 && high > low);
  assert.equal(engineModule.backoffDelay(40, () => 1), 5 * 60 * 1000, 'capped at five minutes');
});

test('a large push goes gzip-compressed and the server reads it', async () => {
  const { db, server, engine } = await setup();
  await enqueue(db, { entity: 'member', id: 'long', fields: { name: 'N', age: 20, notes: 'नोट '.repeat(900) } });
  assert.equal((await engine.sync()).status, 'ok');
  assert.equal(server.get('member', 'long').notes.length, 'नोट '.repeat(900).length);
});

test('a record deleted on the server is hidden but kept, so an edit of it can restore it', async () => {
  const { db, server, engine } = await setup();
  server.seed('member', 'gone', { name: 'पुराना', age: 22 });
  await engine.sync();
  server.seed('member', 'gone', { deleted: true });
  await engine.sync();
  assert.equal(await overlayModule.getShown(db, 'member', 'gone'), null);
  assert.equal((await overlayModule.listShown(db, 'member')).length, 0);
  const restore = await enqueue(db, { entity: 'member', id: 'gone', fields: { name: 'वापस' } });
  assert.equal(restore.base_version, 2, 'the restore names the deleted version it saw');
  const shown = await overlayModule.getShown(db, 'member', 'gone');
  assert.equal(shown.record.name, 'वापस');
  assert.equal(shown.record.age, 22);
});
