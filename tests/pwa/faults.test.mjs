/** A server bug never wedges the phone: split a failing batch, set aside the one change the
 * server keeps failing on, keep seqs without gaps; 503 and 429 only ask us to wait. */

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { apiModule, dbModule, outboxModule, schedulerModule, setup } from './helpers.mjs';

const { enqueue, waiting, needingAttention, resendSetAside } = outboxModule;
const { META, OUTBOX } = dbModule;

async function addMembers(db, n, prefix = 'm') {
  for (let i = 0; i < n; i++) {
    await enqueue(db, { entity: 'member', id: `${prefix}-${i}`, fields: { name: `युवा ${i}`, age: 20 } });
  }
}

const pushes = (server) => server.requests.filter((r) => r.path === '/api/sync/push').map((r) => r.body.mutations);
const seqsOf = (mutations) => mutations.map((m) => m.seq);

test('a batch the server keeps failing with 500 is split after three tries; the good ones get through', async () => {
  const { db, server, engine } = await setup();
  await addMembers(db, 5);
  server.poison = (m) => m.id === 'm-2';
  for (let i = 0; i < 2; i++) assert.equal((await engine.sync()).status, 'offline');
  assert.deepEqual(pushes(server).map(seqsOf), [[1, 2, 3, 4, 5], [1, 2, 3, 4, 5]], 'two tries of the whole batch');

  // The third failure splits it: one by one, in seq order, until the poisoned one fails.
  assert.equal((await engine.sync()).status, 'offline');
  assert.deepEqual(pushes(server).slice(2).map(seqsOf), [[1, 2, 3, 4, 5], [1], [2], [3]]);
  assert.equal(server.lastSeq, 2);
  assert.equal(server.get('member', 'm-1').name, 'युवा 1');
  assert.deepEqual((await waiting(db)).map((m) => m.seq), [3, 4, 5]);
  assert.deepEqual(await needingAttention(db), [], 'nothing is set aside after one failure alone');
  assert.deepEqual(server.gaps, []);
});

test('a change that alone keeps failing goes to needs attention with the error; those behind it are sent without a gap', async () => {
  const { db, server, engine } = await setup();
  await addMembers(db, 5);
  server.poison = (m) => m.id === 'm-2';
  const reports = [];
  for (let i = 0; i < 5; i++) reports.push((await engine.sync()).status);
  // Three failures of the batch, then three of m-2 alone (the first with the split).
  assert.deepEqual(reports, ['offline', 'offline', 'offline', 'offline', 'ok']);

  const attention = await needingAttention(db);
  assert.equal(attention.length, 1);
  const [aside] = attention;
  assert.equal(aside.id, 'm-2');
  assert.equal(aside.set_aside, true);
  assert.deepEqual(aside.error, { code: 'internal_error', message: 'internal_error', status: 500 });
  assert.equal(aside.fields.name, 'युवा 2', 'what was typed is kept');
  assert.ok(aside.seq > 2 && aside.seq < 3, 'keyed below the seq it held, which went to the next change');

  // The server never consumed seq 3 for m-2: m-3 and m-4 took seqs 3 and 4.
  assert.deepEqual(await db.getAll(OUTBOX), [], 'the queue behind it drained and was acknowledged');
  assert.equal(server.lastSeq, 4);
  assert.equal(server.applied.get(3).id, 'm-3');
  assert.equal(server.applied.get(4).id, 'm-4');
  assert.equal(server.get('member', 'm-4').name, 'युवा 4');
  assert.equal(server.get('member', 'm-2'), undefined);
  assert.deepEqual(server.gaps, [], 'the server never saw a gap');
  const emptyPush = pushes(server).findIndex((mutations) => mutations.length === 0);
  assert.ok(emptyPush > 0, 'the device asked the server for its last seq before renumbering');
  assert.equal(await db.get(META, 'push_trouble'), undefined);

  // The next change follows on without a gap, in full batches again.
  await addMembers(db, 2, 'next');
  assert.deepEqual((await waiting(db)).map((m) => m.seq), [5, 6]);
  assert.equal((await engine.sync()).status, 'ok');
  assert.deepEqual(seqsOf(pushes(server).at(-1)), [5, 6]);
  assert.equal(server.lastSeq, 6);

  // Sent again once the server is fixed: a new mutation with a new seq.
  server.poison = null;
  await resendSetAside(db, aside.seq);
  assert.deepEqual(await needingAttention(db), []);
  const [again] = await waiting(db);
  assert.equal(again.seq, 7);
  assert.equal(again.id, 'm-2');
  assert.equal((await engine.sync()).status, 'ok');
  assert.equal(server.get('member', 'm-2').name, 'युवा 2');
  assert.deepEqual(server.gaps, []);
});

test('two changes set aside at one seq keep distinct keys, in order, apart from rejected ones', async () => {
  const { db, server, engine } = await setup();
  await addMembers(db, 4);
  server.poison = (m) => m.id === 'm-1' || m.id === 'm-2';
  for (let i = 0; i < 12 && (await engine.sync()).status !== 'ok'; i++);
  const attention = await needingAttention(db);
  assert.deepEqual(attention.map((m) => m.id), ['m-1', 'm-2']);
  assert.deepEqual(attention.map((m) => m.seq), [1.5, 1.75]);
  assert.equal(server.applied.get(2).id, 'm-3');
  assert.deepEqual(server.gaps, []);

  // A rejection at a reused seq lands beside them, never over them.
  server.poison = null;
  await enqueue(db, { entity: 'member', id: 'young', fields: { name: 'छोटा', age: 15 } });
  assert.equal((await engine.sync()).status, 'ok');
  assert.deepEqual((await needingAttention(db)).map((m) => [m.id, m.seq]), [['m-1', 1.5], ['m-2', 1.75], ['young', 3]]);
});

test('a server that fails every push, even an empty one, sets nothing aside', async () => {
  const { db, server, engine } = await setup();
  await addMembers(db, 3);
  server.push = () =>
    new Response(JSON.stringify({ error: { code: 'internal_error', message: 'down', fields: {} } }), {
      status: 500,
      headers: { 'Content-Type': 'application/json' },
    });
  for (let i = 0; i < 10; i++) assert.equal((await engine.sync()).status, 'offline');
  assert.deepEqual(await needingAttention(db), []);
  assert.deepEqual((await waiting(db)).map((m) => [m.seq, m.id]), [[1, 'm-0'], [2, 'm-1'], [3, 'm-2']]);
  assert.ok(pushes(server).some((mutations) => mutations.length === 0), 'it asked, and the server failed that too');
});

test('a change whose push was committed before the 500 is set aside without renumbering', async () => {
  const { db, server, engine } = await setup();
  await addMembers(db, 4);
  server.crashAnswering = (m) => m.id === 'm-1';
  for (let i = 0; i < 10 && (await engine.sync()).status !== 'ok'; i++);
  assert.deepEqual((await needingAttention(db)).map((m) => [m.id, m.seq]), [['m-1', 1.5]]);
  // The first push was applied whole: seqs 1-4 are the server's, each for its own change.
  assert.deepEqual([1, 2, 3, 4].map((seq) => server.applied.get(seq).id), ['m-0', 'm-1', 'm-2', 'm-3']);
  assert.deepEqual(await db.getAll(OUTBOX), []);
  assert.equal(await db.get(META, 'seq'), 4, 'no seq was given out twice');
  assert.deepEqual(server.gaps, []);
});

test('503 with Retry-After waits as asked, never splits, and the batch goes whole', async () => {
  let clock = 1_700_000_000_000;
  const { db, server, engine } = await setup({ now: () => clock });
  await addMembers(db, 3);
  server.busyPushes = 5;
  server.busyRetryAfter = '30';
  for (let i = 0; i < 5; i++) {
    const report = await engine.sync();
    assert.equal(report.status, 'offline');
    assert.equal(report.error.code, 'database_unavailable');
    assert.equal(report.retryAt, clock + 30_000);
    // Any trigger before then sends nothing.
    clock += 29_000;
    const early = await engine.sync();
    assert.equal(early.deferred, true);
    assert.equal(early.status, 'offline');
    clock += 1_000;
  }
  assert.deepEqual(pushes(server).map(seqsOf), Array(5).fill([1, 2, 3]), 'five tries, all of the whole batch');
  assert.equal(await db.get(META, 'push_trouble'), undefined, 'a 503 is not counted as a server fault');
  assert.equal((await engine.sync()).status, 'ok');
  assert.deepEqual(seqsOf(pushes(server).at(-1)), [1, 2, 3]);
  assert.deepEqual(await needingAttention(db), []);
  assert.deepEqual(await db.getAll(OUTBOX), []);
});

test('429 with Retry-After also waits; a 503 between 500s neither splits nor sets aside', async () => {
  let clock = 1_700_000_000_000;
  const { db, server, engine } = await setup({ now: () => clock });
  await addMembers(db, 2);
  server.poison = (m) => m.id === 'm-1';
  const realPush = server.push.bind(server);
  let turn = 0;
  server.push = (body) => {
    turn += 1;
    if (turn % 2 === 0) {
      const busy = new Response(JSON.stringify({ error: { code: 'too_many_requests', message: 'slow', fields: {} } }), {
        status: turn % 4 === 0 ? 429 : 503,
        headers: { 'Content-Type': 'application/json', 'Retry-After': '5' },
      });
      return busy;
    }
    return realPush(body);
  };
  // 500, 503, 500, 429: two counted failures of the batch, not three.
  for (let i = 0; i < 4; i++) {
    await engine.sync();
    clock += 10_000;
  }
  assert.deepEqual(pushes(server).map(seqsOf), Array(4).fill([1, 2]));
  assert.deepEqual(await db.get(META, 'push_trouble'), { seq: 1, alone: false, fails: 2 });
  assert.deepEqual(await needingAttention(db), []);
});

test('the scheduler waits for Retry-After, and a deferred sync is no new attempt', async () => {
  const timers = [];
  let clock = 1_000_000;
  let report = { status: 'offline', pushed: 0, pulled: 0, retryAt: clock + 45_000 };
  const scheduler = schedulerModule.createScheduler({
    engine: { sync: async () => report },
    setTimer: (fn, ms) => timers.push({ fn, ms }),
    clearTimer: () => {},
    random: () => 0,
    now: () => clock,
  });
  await scheduler.run();
  assert.equal(timers.at(-1).ms, 45_000, 'not before the server said, though the backoff is shorter');
  assert.equal(scheduler.attempt, 1);
  clock += 20_000;
  report = { ...report, deferred: true };
  await scheduler.run();
  assert.equal(timers.at(-1).ms, 25_000);
  assert.equal(scheduler.attempt, 1, 'nothing was sent: no new attempt');
  report = { status: 'offline', pushed: 0, pulled: 0 };
  await scheduler.run();
  assert.equal(timers.at(-1).ms, 2000, 'without Retry-After, the usual backoff');
});

test('Retry-After is read as seconds or as an HTTP date', () => {
  const { retryAfterSeconds } = apiModule;
  assert.equal(retryAfterSeconds('120'), 120);
  assert.equal(retryAfterSeconds(new Date(1_000_000 + 90_000).toUTCString(), 1_000_000), 90);
  assert.equal(retryAfterSeconds('soon'), undefined);
  assert.equal(retryAfterSeconds(null), undefined);
});

test('a push the database refuses (422 invalid_value) is split like a 500: the value the checks missed is set aside', async () => {
  const { db, server, engine } = await setup();
  await addMembers(db, 3);
  server.poison = (m) => m.id === 'm-1';
  server.poisonAnswer = [422, 'invalid_value'];
  for (let i = 0; i < 5; i++) await engine.sync();
  const [aside] = await needingAttention(db);
  assert.equal(aside.id, 'm-1');
  assert.equal(aside.error.code, 'invalid_value');
  assert.equal(server.get('member', 'm-2').name, 'युवा 2', 'the change behind it got through');
  assert.deepEqual(await db.getAll(OUTBOX), []);
  assert.deepEqual(server.gaps, []);
});
