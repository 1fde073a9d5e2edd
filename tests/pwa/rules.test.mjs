/**
 * The app's sync rules that are tables, head-on: which failures count against a batch,
 * how many mutations the next push may hold, the retry delays, when the scheduler tries
 * again, and the order of a lock's callers.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { engineModule, schedulerModule } from './helpers.mjs';

const faults = await import(new URL('../../pwa/src/sync/faults.js', import.meta.url).href);
const locks = await import(new URL('../../pwa/src/sync/locks.js', import.meta.url).href);

const SERVER_FAULTS = [
  [{ status: 500 }, true],
  [{ status: 502 }, true],
  [{ status: 599 }, true],
  [{ status: 503 }, false], // not now: Retry-After
  [{ status: 504 }, false], // a proxy gave up; the push may still be applied
  [{ status: 499 }, false],
  [{ status: 422, code: 'invalid_value' }, true], // the database refused a value
  [{ status: 422, code: 'validation_error' }, false],
  [{ status: 400, code: 'invalid_value' }, false],
  [{ status: 0 }, false], // offline
];

for (const [err, fault] of SERVER_FAULTS) {
  test(`isServerFault(${JSON.stringify(err)}) is ${fault}`, () => {
    assert.equal(faults.isServerFault(err), fault);
  });
}

const LIMITS = [
  // [trouble, first waiting seq, max, limit]
  [{}, 1, 500, 500],
  [{ until: 5 }, 4, 500, 1],
  [{ until: 5 }, 5, 500, 1],
  [{ until: 5 }, 6, 500, 500],
  [{ until: 0 }, 0, 7, 1],
  [{ until: 5 }, undefined, 500, 500],
  [{ seq: 3, fails: 2 }, 3, 500, 500],
];

for (const [trouble, seq, max, limit] of LIMITS) {
  test(`batchLimit(${JSON.stringify(trouble)}, seq ${seq}, ${max}) is ${limit}`, () => {
    assert.equal(faults.batchLimit(trouble, seq === undefined ? undefined : { seq }, max), limit);
  });
}

test('backoffDelay doubles from 2 s, halves for jitter and caps at five minutes', () => {
  const rows = [
    // [attempt, random, delay]
    [0, 0, 1000],
    [0, 1, 2000],
    [0, 0.5, 1500],
    [1, 0, 2000],
    [1, 1, 4000],
    [2, 0, 4000],
    [6, 1, 128000],
    [7, 1, 256000],
    [7, 0, 128000],
    [8, 1, 5 * 60 * 1000],
    [8, 0, 150000],
    [20, 0, 150000],
    [1000, 1, 5 * 60 * 1000],
  ];
  for (const [attempt, random, delay] of rows) {
    assert.equal(engineModule.backoffDelay(attempt, () => random), delay, `attempt ${attempt}, random ${random}`);
  }
  assert.equal(engineModule.backoffDelay(3, () => 0.3333), Math.round(8000 + 0.3333 * 8000));
  assert.equal(engineModule.backoffDelay(25, () => 1, { base: 1, cap: 2 ** 40 }), 2 ** 20, 'exponent stops at 20');
  assert.equal(engineModule.backoffDelay(2, () => 1, { base: 10 }), 40);
  assert.equal(engineModule.backoffDelay(9, () => 1, { cap: 3000 }), 3000);
  const d = engineModule.backoffDelay(0);
  assert.ok(d >= 1000 && d <= 2000, `the default random keeps ${d} within the first window`);
});

/** A scheduler over an engine that answers the given reports in turn, with a hand clock. */
function scheduled(reports, now = () => 1000) {
  const timers = [];
  const cleared = [];
  const seen = [];
  const engine = { sync: async () => reports.shift() };
  const scheduler = schedulerModule.createScheduler({
    engine,
    onReport: (r) => seen.push(r.status),
    setTimer: (fn, ms) => {
      timers.push({ fn, ms });
      return timers.length;
    },
    clearTimer: (handle) => cleared.push(handle),
    random: () => 0,
    now,
  });
  return { scheduler, timers, cleared, seen };
}

test('the scheduler retries an offline or failed sync with growing delays, and resets on success', async () => {
  const { scheduler, timers, seen } = scheduled([
    { status: 'offline' },
    { status: 'error' },
    { status: 'ok' },
    { status: 'login' },
  ]);
  await scheduler.run();
  assert.deepEqual([timers.map((t) => t.ms), scheduler.attempt, scheduler.retryPending], [[1000], 1, true]);
  await scheduler.run();
  assert.deepEqual(timers.map((t) => t.ms), [1000, 2000]);
  await scheduler.run();
  assert.deepEqual([scheduler.attempt, timers.length, scheduler.retryPending], [0, 2, false]);
  await scheduler.run();
  assert.deepEqual([scheduler.attempt, timers.length], [0, 2], 'no retry of a login failure');
  assert.deepEqual(seen, ['offline', 'error', 'ok', 'login']);
});

test('the scheduler waits for Retry-After, and a deferred sync is no new attempt', async () => {
  const { scheduler, timers } = scheduled(
    [
      { status: 'error', retryAt: 61000 },
      { status: 'error', retryAt: 61000, deferred: true },
      { status: 'error', retryAt: 1500 },
    ],
    () => 1000,
  );
  await scheduler.run();
  assert.deepEqual([timers[0].ms, scheduler.attempt], [60000, 1]);
  await scheduler.run();
  assert.deepEqual([timers[1].ms, scheduler.attempt], [60000, 1]);
  await scheduler.run();
  assert.deepEqual([timers[2].ms, scheduler.attempt], [2000, 2], 'the backoff when it is longer');
});

test('a run clears the pending retry, the timer runs again, and stop cancels it', async () => {
  const { scheduler, timers, cleared } = scheduled([
    { status: 'offline' },
    { status: 'offline' },
    { status: 'offline' },
    { status: 'offline' },
  ]);
  await scheduler.run();
  await scheduler.run();
  assert.deepEqual(cleared, [1], 'the first retry cleared by the second run');
  timers[1].fn();
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(timers.length, 3, 'the timer ran sync again and set the next retry');
  assert.equal(scheduler.retryPending, true);
  scheduler.stop();
  assert.deepEqual([cleared, scheduler.retryPending], [[1, 3], false]);
  await scheduler.run();
  assert.equal(timers.length, 3, 'no retry once stopped');
  scheduler.stop();
  assert.deepEqual(cleared, [1, 3], 'nothing to clear');
});

test('withLock runs its callers one at a time, in order, through a failure', async () => {
  const order = [];
  const slow = (name, ms, fail = false) => async () => {
    order.push(`start ${name}`);
    await new Promise((resolve) => setTimeout(resolve, ms));
    order.push(`end ${name}`);
    if (fail) throw new Error(name);
    return name;
  };
  const a = locks.withLock('l', slow('a', 20));
  const b = locks.withLock('l', slow('b', 1, true));
  const c = locks.withLock('l', slow('c', 1));
  const other = locks.withLock('m', slow('m', 1));
  assert.equal(await a, 'a');
  await assert.rejects(b, /b/);
  assert.equal(await c, 'c');
  assert.equal(await other, 'm');
  assert.deepEqual(
    order.filter((e) => !e.endsWith('m')),
    ['start a', 'end a', 'start b', 'end b', 'start c', 'end c'],
  );
  assert.ok(order.indexOf('end m') < order.indexOf('end a'), 'another lock does not wait');
  assert.equal(await locks.withLock('l', async () => 'free again'), 'free again');
});
