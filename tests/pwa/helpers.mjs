/** Test helpers: an in-memory IndexedDB, and a fake server that speaks the sync protocol. */

import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';

const requireFromPwa = createRequire(new URL('../../pwa/package.json', import.meta.url));
await import(pathToFileURL(requireFromPwa.resolve('fake-indexeddb/auto')).href);

const src = (path) => new URL(`../../pwa/src/${path}`, import.meta.url).href;
export const dbModule = await import(src('db/index.js'));
export const outboxModule = await import(src('sync/outbox.js'));
export const overlayModule = await import(src('sync/overlay.js'));
export const engineModule = await import(src('sync/engine.js'));
export const schedulerModule = await import(src('sync/scheduler.js'));
export const hlcModule = await import(src('sync/hlc.js'));
export const apiModule = await import(src('api/client.js'));

/** A fresh, empty local database with a logged-in session. */
export async function freshDb() {
  await dbModule.deleteLocalDb();
  const db = await dbModule.openLocalDb();
  await db.put(
    dbModule.META,
    { access_token: 'access-1', refresh_token: 'refresh-1', user: { id: 1, role: 'volunteer' } },
    'session',
  );
  return db;
}

function json(status, body) {
  return new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  });
}

function error(status, code, fields = {}, headers = {}) {
  const response = json(status, { error: { code, message: code, fields } });
  for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
  return response;
}

/**
 * The server side of the protocol, small enough to read: per-record versions, the
 * applied-mutation log, a change log for cursors, field merge and last-writer-wins by hlc.
 * Tests flip its switches to drop answers, fail, expire tokens or revoke the device.
 */
export class FakeServer {
  constructor() {
    this.records = new Map(); // "entity:id" -> {entity, id, version, record, meta: {field: hlc}}
    this.log = []; // change log: "entity:id" in commit order
    this.applied = new Map(); // seq -> outcome
    this.lastSeq = 0;
    this.accessToken = 'access-1';
    this.refreshToken = 'refresh-1';
    this.spentRefresh = new Set();
    this.requests = [];
    this.loseNextAnswers = 0; // apply the request, then drop the answer
    this.failNext = 0; // answer 503 without applying
    this.poison = null; // (mutation) => true: a push holding it fails with 500, nothing applied
    this.poisonAnswer = [500, 'internal_error']; // or the database's refusal: [422, 'invalid_value']
    this.busyPushes = 0; // answer that many pushes 503 with Retry-After: busyRetryAfter
    this.busyRetryAfter = '30';
    this.crashAnswering = null; // (mutation) => true: a push holding it is committed, then 500
    this.gaps = []; // every push refused with seq_gap, for tests that must see none
    this.revoked = false;
    this.resetNextPull = false;
    this.hlc = '0000000000000-0000-server';
  }

  /** What a backup holds: records, change log, applied mutations and last_seq. */
  snapshot() {
    return structuredClone({ records: this.records, log: this.log, applied: this.applied, lastSeq: this.lastSeq });
  }

  /** Back to a backup, as after a restore: everything since it is forgotten. */
  restore(backup) {
    Object.assign(this, structuredClone(backup));
    this.resetNextPull = true; // the cursors phones hold are from another copy of the data
  }

  /** Put a record on the server as if another phone had written it. */
  seed(entity, id, fields) {
    const key = `${entity}:${id}`;
    const held = this.records.get(key);
    const record = { ...(held?.record || { id }), ...fields };
    const version = (held?.version || 0) + 1;
    record.version = version;
    this.records.set(key, { entity, id, version, record, meta: held?.meta || {} });
    this.log.push(key);
  }

  get(entity, id) {
    return this.records.get(`${entity}:${id}`)?.record;
  }

  fetch = async (url, init = {}) => {
    const { pathname, searchParams } = new URL(url, 'http://phone.test');
    const headers = init.headers || {};
    let body = init.body;
    if (body && headers['Content-Encoding'] === 'gzip') body = gunzipSync(body).toString('utf8');
    const parsed = body ? JSON.parse(body) : undefined;
    this.requests.push({ method: init.method, path: pathname, body: parsed });
    if (this.failNext > 0) {
      this.failNext -= 1;
      return error(503, 'unavailable');
    }
    const response = this.answer(pathname, searchParams, headers, parsed);
    if (this.loseNextAnswers > 0) {
      this.loseNextAnswers -= 1;
      throw new TypeError('Failed to fetch');
    }
    return response;
  };

  answer(pathname, searchParams, headers, body) {
    const token = (headers.Authorization || '').replace('Bearer ', '');
    if (this.revoked) return error(401, 'device_revoked');
    if (pathname === '/api/auth/refresh') {
      if (this.spentRefresh.has(token)) {
        this.revoked = true;
        return error(401, 'device_revoked');
      }
      if (token !== this.refreshToken) return error(401, 'session_expired');
      this.spentRefresh.add(token);
      const n = this.spentRefresh.size + 1;
      this.accessToken = `access-${n}`;
      this.refreshToken = `refresh-${n}`;
      return json(200, { access_token: this.accessToken, refresh_token: this.refreshToken });
    }
    if (token !== this.accessToken) return error(401, 'token_expired');
    if (pathname === '/api/sync/push') return this.push(body);
    if (pathname === '/api/sync/pull') return this.pull(searchParams);
    return error(404, 'not_found');
  }

  push(body) {
    if (body.schema_version !== 1) return error(409, 'client_outdated');
    if (body.mutations.length > 500) return error(413, 'too_large');
    if (this.busyPushes > 0) {
      this.busyPushes -= 1;
      return error(503, 'database_unavailable', {}, { 'Retry-After': this.busyRetryAfter });
    }
    // As the real server: seqs above last_seq must follow it without a gap, in order.
    let expected = this.lastSeq + 1;
    for (const m of [...body.mutations].sort((a, b) => a.seq - b.seq)) {
      if (m.seq <= this.lastSeq) continue;
      if (m.seq !== expected) {
        this.gaps.push({ expected, got: m.seq });
        return error(409, 'seq_gap', { expected });
      }
      expected += 1;
    }
    if (this.poison && body.mutations.some((m) => m.seq > this.lastSeq && this.poison(m))) {
      // A server bug: the transaction rolls back, nothing of the push is kept.
      return error(...this.poisonAnswer);
    }
    const results = body.mutations.map((m) => {
      if (this.applied.has(m.seq)) {
        const before = this.applied.get(m.seq);
        const held = this.records.get(`${m.entity}:${m.id}`);
        return { ...before, status: before.status === 'rejected' ? 'rejected' : 'duplicate', record: held?.record || null };
      }
      const outcome = this.apply(m);
      this.applied.set(m.seq, outcome);
      this.lastSeq = m.seq;
      return outcome;
    });
    if (this.crashAnswering && body.mutations.some((m) => this.crashAnswering(m))) {
      // A bug after the commit: the seqs are consumed, but the phone hears only a 500.
      return error(500, 'internal_error');
    }
    return json(200, { last_seq: this.lastSeq, server_hlc: this.hlc, results });
  }

  apply(m) {
    const key = `${m.entity}:${m.id}`;
    const held = this.records.get(key);
    if (m.op === 'upsert' && m.fields.age !== undefined && (m.fields.age < 18 || m.fields.age > 35)) {
      return {
        seq: m.seq,
        status: 'rejected',
        id: m.id,
        version: held?.version ?? null,
        record: held?.record ?? null,
        conflicts: [],
        error: { code: 'validation_error', message: 'age', fields: { age: ['18 to 35'] } },
      };
    }
    const version = (held?.version || 0) + 1;
    const record = { ...(held?.record || { id: m.id }), version };
    const meta = { ...(held?.meta || {}) };
    const conflicts = [];
    if (m.op === 'delete') record.deleted = true;
    for (const [field, value] of Object.entries(m.fields || {})) {
      const changedSince = held && m.base_version !== null && held.version > m.base_version && meta[field];
      if (changedSince && held.record[field] !== value) {
        const mineWins = m.hlc > meta[field];
        conflicts.push({ field, kept: mineWins ? value : held.record[field], lost: mineWins ? held.record[field] : value });
        if (!mineWins) continue;
      }
      record[field] = value;
      meta[field] = m.hlc;
    }
    this.records.set(key, { entity: m.entity, id: m.id, version, record, meta });
    this.log.push(key);
    if (conflicts.length) {
      const conflictId = `c-${m.seq}`;
      this.records.set(`conflict:${conflictId}`, {
        entity: 'conflict',
        id: conflictId,
        version: 1,
        // The real server's conflict record (tests/golden/push_conflict.json): one field map
        // for the values that lost and one for those kept.
        record: {
          id: conflictId,
          entity: m.entity,
          record_id: m.id,
          kind: 'field',
          lost: Object.fromEntries(conflicts.map((c) => [c.field, c.lost])),
          kept: Object.fromEntries(conflicts.map((c) => [c.field, c.kept])),
          lost_hlc: m.hlc,
          resolved: false,
        },
      });
      this.log.push(`conflict:${conflictId}`);
    }
    const status = conflicts.length ? 'conflict' : held && held.version !== m.base_version ? 'merged' : 'applied';
    return { seq: m.seq, status, id: m.id, version, record, conflicts, error: null };
  }

  pull(searchParams) {
    if (this.resetNextPull) {
      this.resetNextPull = false;
      return json(200, { changes: [], cursor: '', has_more: false, last_seq: this.lastSeq, server_hlc: this.hlc, reset: true });
    }
    const from = Number(searchParams.get('cursor') || 0);
    const limit = Number(searchParams.get('limit') || 500);
    const slice = this.log.slice(from, from + limit);
    // Latest state of each record changed in this window, in commit order.
    const changes = [...new Set(slice)].map((key) => {
      const held = this.records.get(key);
      return { entity: held.entity, id: held.id, version: held.version, deleted: !!held.record.deleted, record: held.record };
    });
    const cursor = String(from + slice.length);
    return json(200, {
      changes,
      cursor,
      has_more: from + slice.length < this.log.length,
      last_seq: this.lastSeq,
      server_hlc: this.hlc,
      reset: false,
    });
  }
}

/** An engine bound to a fresh database and a fake server. */
export async function setup({ now } = {}) {
  const db = await freshDb();
  const server = new FakeServer();
  const api = apiModule.createApi({ db, fetch: server.fetch });
  const engine = engineModule.createSyncEngine({ db, api, now });
  return { db, server, api, engine };
}
