/**
 * The app's sync client against the golden exchanges recorded from the real server
 * (tests/golden/*.json, made by tests/golden/record.py): the client makes the recorded
 * edits and syncs, must send exactly the recorded requests, and is answered with the
 * recorded answers. Re-record with `.venv/bin/python -m tests.golden.record`.
 */

import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';

import { apiModule, dbModule, engineModule, freshDb, outboxModule, overlayModule } from './helpers.mjs';

const { META, OUTBOX, RECORDS, CONFLICTS } = dbModule;
const { enqueue, needingAttention } = outboxModule;
const { getShown } = overlayModule;

const GOLDEN = new URL('../golden/', import.meta.url);
const SCENARIOS = readdirSync(GOLDEN).filter((name) => name.endsWith('.json')).map((name) => name.slice(0, -5));

/** @param {string} name */
function golden(name) {
  return JSON.parse(readFileSync(new URL(`${name}.json`, GOLDEN), 'utf8'));
}

/**
 * A fetch that checks each request against the next recorded one and answers with the
 * recorded answer (or drops it, as a lost connection, where the recording says so).
 */
class RecordedServer {
  constructor(exchanges) {
    this.exchanges = [...exchanges];
  }

  fetch = async (url, init = {}) => {
    const { pathname, searchParams } = new URL(url, 'http://phone.test');
    const done = this.exchanges.shift();
    assert.ok(done, `${init.method} ${pathname} was sent, but nothing more was recorded`);
    const want = done.request;
    assert.deepEqual([init.method, pathname], [want.method, want.path]);
    if (want.query) {
      const query = Object.fromEntries(searchParams);
      // The app always asks for its own page size; a scenario may have recorded smaller
      // pages to show has_more without hundreds of records (pull_pages).
      assert.equal(query.limit, String(engineModule.PULL_LIMIT));
      assert.deepEqual({ ...query, limit: want.query.limit }, want.query);
    } else {
      let body = init.body;
      if (body && init.headers?.['Content-Encoding'] === 'gzip') body = gunzipSync(body).toString('utf8');
      assert.deepEqual(body === undefined ? null : JSON.parse(body), want.body);
    }
    if (done.lost) throw new TypeError('Failed to fetch');
    return new Response(JSON.stringify(done.response.body), {
      status: done.response.status,
      headers: { 'Content-Type': 'application/json', ...done.response.headers },
    });
  };
}

/**
 * Replay a scenario's steps (edits, syncs, a cursor set by hand, pulls, logins) on a fresh
 * phone holding the recorded device id.
 * @param {string} name
 */
async function replay(name) {
  const scenario = golden(name);
  const db = await freshDb();
  await db.put(META, scenario.device_id, 'device_id');
  const server = new RecordedServer(scenario.exchanges);
  const api = apiModule.createApi({ db, fetch: server.fetch });
  let clock = 0;
  const engine = engineModule.createSyncEngine({ db, api, now: () => clock });
  const reports = [];
  for (const step of scenario.steps) {
    if (step.edit) {
      const { at, base_version: baseVersion, ...change } = step.edit;
      await enqueue(db, baseVersion === undefined ? change : { ...change, baseVersion }, { now: () => at });
    } else if (step.sync) {
      clock = step.sync.at;
      reports.push(await engine.sync());
    } else if (step.set_cursor !== undefined) {
      await db.put(META, step.set_cursor, 'cursor');
    } else if (step.pull) {
      reports.push({ pulled: await engine.pull() });
    } else if (step.login) {
      const { phone, password, device_id: device, device_name: deviceName } = step.login;
      reports.push(await api.login(phone, password, device, deviceName).catch((err) => err));
    }
  }
  assert.deepEqual(server.exchanges, [], 'every recorded request was sent');
  return { db, scenario, reports };
}

/** The answer body of the last recorded pull. */
function lastPull(scenario) {
  return scenario.exchanges.filter((e) => e.request.path === '/api/sync/pull').at(-1).response.body;
}

test('every recorded scenario is replayed here', () => {
  const covered = new Set(Object.keys(EXPECT));
  assert.deepEqual(SCENARIOS.filter((name) => !covered.has(name)), []);
});

const MEMBER = '00000002-0000-4000-8000-000000000001';

/** What the phone holds after each scenario, beyond sending exactly what was recorded. */
const EXPECT = {
  async register_device({ db, scenario, reports }) {
    const session = await db.get(META, 'session');
    assert.equal(session.access_token, '<access_token>');
    assert.deepEqual(session.user, scenario.exchanges[0].response.body.user);
    assert.equal(reports[0].user.role, 'volunteer');
  },
  async login_throttled({ reports }) {
    assert.deepEqual(reports.map((e) => [e.status, e.code]), [
      ...Array(5).fill([401, 'invalid_credentials']),
      [429, 'too_many_requests'],
    ]);
    assert.ok(reports[5].retryAfter > 0, 'the wait the server asked for is read');
  },
  async push_applied({ db, reports }) {
    assert.equal(reports[0].status, 'ok');
    assert.deepEqual(await db.getAll(OUTBOX), []);
    assert.equal((await db.get(RECORDS, ['member', MEMBER])).version, 1);
    assert.equal((await getShown(db, 'member', MEMBER)).state, 'synced');
  },
  async push_duplicate({ db, reports }) {
    assert.deepEqual(reports.map((r) => r.status), ['offline', 'ok']);
    assert.deepEqual(await db.getAll(OUTBOX), []);
    assert.equal((await db.get(RECORDS, ['member', MEMBER])).version, 1);
  },
  async push_merged({ db }) {
    const shown = await getShown(db, 'member', MEMBER);
    assert.equal(shown.state, 'synced');
    assert.equal(shown.version, 3);
    assert.equal(shown.record.age, 30, "the booth-mate's change is kept");
    assert.equal(shown.record.notes, 'बैठक में नियमित आते हैं', 'and ours');
  },
  async push_conflict({ db }) {
    const shown = await getShown(db, 'member', MEMBER);
    assert.equal(shown.state, 'conflict');
    assert.equal(shown.record.name, 'रामू');
    // The server's conflict record keeps the lost and kept values by field (the fake
    // server of helpers.mjs shapes it as the push answer's conflicts[] instead).
    assert.deepEqual(shown.conflicts[0].lost, { name: 'राम कुमार महतो' });
    assert.deepEqual(shown.conflicts[0].kept, { name: 'रामू' });
    assert.equal((await db.getAll(CONFLICTS)).length, 1);
  },
  async push_rejected({ db }) {
    const attention = await needingAttention(db);
    assert.deepEqual(attention.map((m) => [m.seq, m.error.code]), [[1, 'validation_error'], [2, 'not_found']]);
    assert.deepEqual(await db.getAll(OUTBOX), []);
    assert.equal((await getShown(db, 'member', MEMBER)).state, 'rejected');
    assert.equal((await getShown(db, 'member', '00000002-0000-4000-8000-000000000002')).state, 'synced');
  },
  async squad_full({ db }) {
    assert.equal((await getShown(db, 'member', MEMBER)).record.status, 'waitlisted');
    assert.equal((await db.getAll(RECORDS)).length, 21);
  },
  async push_delete({ db }) {
    assert.equal(await getShown(db, 'member', MEMBER), null);
    const held = await db.get(RECORDS, ['member', MEMBER]);
    assert.equal(held.record.deleted, true, 'kept hidden with its version, to restore it');
    assert.equal(held.version, 2);
  },
  async database_unavailable({ db, scenario, reports }) {
    assertWaitedAndSent(scenario, reports, 5);
    assert.deepEqual(await db.getAll(OUTBOX), []);
  },
  async push_retry({ db, scenario, reports }) {
    assertWaitedAndSent(scenario, reports, 1);
    assert.deepEqual(await db.getAll(OUTBOX), []);
  },
  async pull_pages({ db, scenario, reports }) {
    assert.equal(reports[0].pulled, 5);
    assert.equal((await db.getAll(RECORDS)).length, 5);
    assert.equal(await db.get(META, 'cursor'), lastPull(scenario).cursor);
  },
  async forged_cursor({ db, scenario }) {
    assert.equal((await db.getAll(RECORDS)).length, 1);
    assert.equal(await db.get(META, 'cursor'), lastPull(scenario).cursor);
  },
  async foreign_cursor({ db, scenario }) {
    assert.equal((await db.getAll(RECORDS)).length, 1);
    assert.equal(await db.get(META, 'cursor'), lastPull(scenario).cursor);
  },
};

/** A 503 with Retry-After: offline until then, nothing counted as failing, then sent. */
function assertWaitedAndSent(scenario, reports, seconds) {
  const syncs = scenario.steps.filter((s) => s.sync).map((s) => s.sync.at);
  assert.deepEqual(reports.map((r) => r.status), ['offline', 'ok']);
  assert.equal(reports[0].retryAt, syncs[0] + seconds * 1000);
  assert.ok(syncs[1] > reports[0].retryAt);
}

for (const name of SCENARIOS) {
  test(`golden ${name}: the client sends the recorded requests and keeps what it should`, async () => {
    const outcome = await replay(name);
    await EXPECT[name](outcome);
  });
}
