/** How the engine meets refusals: seq gaps, pushes too large, reset loops, Retry-After,
 * each status's report, and what it remembers of the last error. */

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { dbModule, outboxModule, setup } from './helpers.mjs';

const { enqueue, waiting, needingAttention } = outboxModule;
const { META, OUTBOX, RECORDS } = dbModule;

const reply = (status, body, headers = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
const refuse = (status, code, fields = {}, headers = {}) => reply(status, { error: { code, message: code, fields } }, headers);
const pushes = (server) => server.requests.filter((r) => r.path === '/api/sync/push').map((r) => r.body.mutations);
const pulls = (server) => server.requests.filter((r) => r.path === '/api/sync/pull');

async function addMembers(db, n, prefix = 'm') {
  for (let i = 0; i < n; i++) await enqueue(db, { entity: 'member', id: `${prefix}-${i}`, fields: { name: `n${i}`, age: 20 } });
}

test('a seq gap the outbox cannot close is reported, and the outbox is left as it was', async () => {
  for (const fields of [{ expected: 4 }, { expected: 3 }, { expected: 0 }, {}]) {
    const { db, server, engine } = await setup();
    await db.put(META, 2, 'seq');
    await addMembers(db, 2);
    server.push = () => refuse(409, 'seq_gap', fields);
    const report = await engine.sync();
    assert.equal(report.status, 'error', JSON.stringify(fields));
    assert.equal(report.error.code, 'seq_gap');
    assert.deepEqual((await waiting(db)).map((m) => m.seq), [3, 4], JSON.stringify(fields));
    assert.equal(pushes(server).length, 1);
  }
});

test('only a seq gap numbers the outbox again, whatever another refusal names', async () => {
  const { db, server, engine } = await setup();
  await db.put(META, 2, 'seq');
  await addMembers(db, 2);
  server.push = () => refuse(409, 'conflict_state', { expected: 1 });
  const report = await engine.sync();
  assert.equal(report.error.code, 'conflict_state');
  assert.deepEqual((await waiting(db)).map((m) => m.seq), [3, 4]);
  assert.equal(pushes(server).length, 1);
});

test('the outbox is numbered again once a push, not after every gap', async () => {
  const { db, server, engine } = await setup();
  await db.put(META, 9, 'seq');
  await addMembers(db, 2);
  // A server that always expects one below what it was sent.
  server.push = (body) => refuse(409, 'seq_gap', { expected: body.mutations[0].seq - 1 });
  const report = await engine.sync();
  assert.equal(report.error.code, 'seq_gap');
  assert.deepEqual(pushes(server).map((b) => b[0].seq), [10, 9]);
  assert.deepEqual((await waiting(db)).map((m) => m.seq), [9, 10]);
});

test('a push too large for the server is halved until it fits, then the rest follows', async () => {
  const { db, server, engine } = await setup();
  await addMembers(db, 5);
  const realPush = server.push.bind(server);
  server.push = (body) => (body.mutations.length > 2 ? refuse(413, 'too_large') : realPush(body));
  const report = await engine.sync();
  assert.equal(report.status, 'ok');
  assert.equal(report.pushed, 5);
  assert.deepEqual(pushes(server).map((b) => b.length), [5, 2, 2, 1]);
  assert.equal(server.lastSeq, 5);
  assert.deepEqual(await db.getAll(OUTBOX), []);
});

test('a push of one the server still finds too large is reported, not sent for ever', async () => {
  const { db, server, engine } = await setup();
  await addMembers(db, 3);
  server.push = () => refuse(413, 'too_large');
  const report = await engine.sync();
  assert.equal(report.status, 'error');
  assert.equal(report.error.code, 'too_large');
  assert.deepEqual(pushes(server).map((b) => b.length), [3, 1]);
  assert.equal((await waiting(db)).length, 3);
});

test('a push holds at most 900 KiB of mutations; one bigger than that still goes alone', async () => {
  const { db, server, engine } = await setup();
  const note = 'x'.repeat(250 * 1024);
  for (let i = 0; i < 5; i++) await enqueue(db, { entity: 'member', id: `big-${i}`, fields: { name: 'B', age: 20, notes: note } });
  await enqueue(db, { entity: 'member', id: 'huge', fields: { name: 'H', age: 20, notes: 'y'.repeat(950 * 1024) } });
  await enqueue(db, { entity: 'member', id: 'small', fields: { name: 'S', age: 20 } });
  assert.equal((await engine.sync()).status, 'ok');
  assert.deepEqual(pushes(server).map((b) => b.map((m) => m.seq)), [[1, 2, 3], [4, 5], [6], [7]]);
});

test('a batch of exactly 900 KiB goes in one push', async () => {
  const { db, server, engine } = await setup();
  const first = await enqueue(db, { entity: 'member', id: 'a', fields: { name: 'A', notes: '' } });
  const second = await enqueue(db, { entity: 'member', id: 'b', fields: { name: 'B', notes: '' } });
  const size = (m) => JSON.stringify(outboxModule.toWire(m)).length;
  const room = 900 * 1024 - size(first) - size(second);
  await db.put(OUTBOX, { ...second, fields: { ...second.fields, notes: 'z'.repeat(room) } });
  assert.equal(size(await db.get(OUTBOX, 1)) + size(await db.get(OUTBOX, 2)), 900 * 1024);
  assert.equal((await engine.sync()).status, 'ok');
  assert.deepEqual(pushes(server).map((b) => b.length), [2]);
});

test('an entry sent once is never folded into, even when its answer was lost', async () => {
  const { db, server, engine } = await setup();
  await enqueue(db, { entity: 'member', id: 'a', fields: { name: 'A', age: 20 } });
  server.loseNextAnswers = 1;
  assert.equal((await engine.sync()).status, 'offline');
  await enqueue(db, { entity: 'member', id: 'a', fields: { age: 21 } });
  assert.deepEqual((await waiting(db)).map((m) => [m.seq, m.fields]), [[1, { name: 'A', age: 20 }], [2, { age: 21 }]]);
});

test('a server that keeps resetting ends the sync after three fresh starts', async () => {
  const { db, server, engine } = await setup();
  server.pull = () => reply(200, { changes: [], cursor: '', has_more: false, last_seq: 0, server_hlc: null, reset: true });
  await db.put(RECORDS, { entity: 'member', id: 'x', version: 1, record: { id: 'x' } });
  const report = await engine.sync();
  assert.equal(report.status, 'offline');
  assert.equal(report.error.code, 'reset_loop');
  assert.ok(report.error.message.length > 0);
  assert.equal(pulls(server).length, 4);
  assert.deepEqual(await db.getAll(RECORDS), []);
});

test('each refusal is reported with the status the app acts on', async () => {
  const cases = [
    [400, 'validation_error', 'error'],
    [404, 'not_found', 'error'],
    [408, 'timeout', 'offline'],
    [409, 'client_outdated', 'outdated'],
    [413, 'too_large', 'error'],
    [429, 'too_many_requests', 'offline'],
    [499, 'odd', 'error'],
    [500, 'internal_error', 'offline'],
    [502, 'bad_gateway', 'offline'],
    [503, 'unavailable', 'offline'],
  ];
  for (const [status, code, expected] of cases) {
    const { db, server, engine } = await setup();
    await addMembers(db, 1);
    server.push = () => refuse(status, code);
    const report = await engine.sync();
    assert.equal(report.status, expected, `${status} ${code}`);
    assert.equal(report.error.code, code);
    assert.equal(report.retryAt, undefined, 'no Retry-After, no retryAt');
  }
});

test('the last error is remembered with its time, and forgotten after a good sync', async () => {
  let clock = 1_700_000_000_000;
  const { db, server, engine } = await setup({ now: () => clock });
  await addMembers(db, 1);
  server.failNext = 1;
  await engine.sync();
  assert.deepEqual(await db.get(META, 'last_error'), { code: 'unavailable', at: clock });
  assert.equal(await db.get(META, 'last_synced_at'), undefined);
  clock += 5000;
  assert.equal((await engine.sync()).status, 'ok');
  assert.equal(await db.get(META, 'last_error'), undefined);
  assert.equal(await db.get(META, 'last_synced_at'), clock);
});

test('a bug in the app is thrown, not reported as a refusal', async () => {
  const { server, engine } = await setup();
  server.pull = () => reply(200, { changes: [{ entity: 'member', version: 1, record: {} }], cursor: '1', has_more: false });
  await assert.rejects(engine.sync(), (err) => err.name === 'DataError');
});

test('Retry-After counts only on 503 and 429, and never for more than an hour', async () => {
  const cases = [
    [503, '30', 30_000],
    [429, '7', 7_000],
    [500, '30', undefined],
    [502, '30', undefined],
    [503, '7200', 60 * 60 * 1000],
  ];
  for (const [status, header, wait] of cases) {
    const clock = 1_700_000_000_000;
    const { db, server, engine } = await setup({ now: () => clock });
    await addMembers(db, 1);
    server.push = () => refuse(status, 'busy', {}, { 'Retry-After': header });
    const report = await engine.sync();
    const expected = wait === undefined ? undefined : clock + wait;
    assert.equal(report.retryAt, expected, `${status} ${header}`);
    assert.equal(await db.get(META, 'retry_at'), expected);
  }
});

test('a retry time up to an hour ahead defers the sync; one further ahead is a clock set back', async () => {
  const clock = 1_700_000_000_000;
  for (const [ahead, deferred] of [[1, true], [60 * 60 * 1000, true], [60 * 60 * 1000 + 1, false], [0, false]]) {
    const { db, server, engine } = await setup({ now: () => clock });
    await addMembers(db, 1);
    await db.put(META, clock + ahead, 'retry_at');
    const report = await engine.sync();
    assert.equal(report.deferred === true, deferred, String(ahead));
    assert.equal(server.requests.length === 0, deferred);
    if (deferred) assert.equal(report.retryAt, clock + ahead);
  }
});

test('the report counts every mutation answered, in the pushes before and after the pull', async () => {
  const { db, server, engine } = await setup();
  await addMembers(db, 3);
  const realPull = server.pull.bind(server);
  let once = true;
  server.pull = (params) => {
    if (once) {
      once = false;
      return addMembers(db, 2, 'during').then(() => realPull(params));
    }
    return realPull(params);
  };
  const report = await engine.sync();
  assert.equal(report.pushed, 5);
  assert.equal(pushes(server).length, 2);
});

test('a set-aside needs the device last seq: an empty push answered without one sets nothing aside', async () => {
  const { db, server, engine } = await setup();
  await addMembers(db, 1);
  server.push = (body) => (body.mutations.length ? refuse(500, 'internal_error') : reply(200, { results: [] }));
  for (let i = 0; i < 5; i++) assert.equal((await engine.sync()).status, 'offline');
  assert.deepEqual(await needingAttention(db), []);
  assert.equal((await waiting(db)).length, 1);
});

test('syncs asked for while one runs share its report and add one more round, not one each', async () => {
  const { db, server, engine } = await setup();
  await addMembers(db, 1);
  const reports = await Promise.all([engine.sync(), engine.sync(), engine.sync()]);
  assert.equal(pulls(server).length, 2);
  assert.deepEqual(reports.map((r) => r.status), ['ok', 'ok', 'ok']);
  assert.ok(reports[1] === reports[0] && reports[2] === reports[0]);

  server.failNext = 10;
  const failed = await Promise.all([engine.sync(), engine.sync()]);
  assert.deepEqual(failed.map((r) => r.status), ['offline', 'offline']);
  assert.equal(server.failNext, 9, 'no second round after a failed one');
});
