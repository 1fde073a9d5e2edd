/** The scheduler with the platform's own timers: a retry fires by itself, and a sync asked
 * for sooner replaces the retry that was waiting. */

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { schedulerModule } from './helpers.mjs';

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

test('with real timers, a sync asked for sooner replaces the waiting retry, and the retry fires', async () => {
  let calls = 0;
  const engine = {
    sync: async () => {
      calls += 1;
      return calls <= 2
        ? { status: 'offline', pushed: 0, pulled: 0, retryAt: Date.now() + 20, deferred: true }
        : { status: 'ok', pushed: 0, pulled: 0 };
    },
  };
  const scheduler = schedulerModule.createScheduler({ engine });
  await scheduler.run();
  assert.equal(scheduler.retryPending, true);
  await scheduler.run();
  await pause(120);
  assert.equal(calls, 3, 'the first retry was cleared; the second fired and succeeded');
  assert.equal(scheduler.retryPending, false);

  await scheduler.run();
  assert.equal(calls, 4);
  scheduler.stop();
});

test('stop clears the waiting retry for good', async () => {
  let calls = 0;
  const engine = { sync: async () => (calls++, { status: 'offline', pushed: 0, pulled: 0, retryAt: Date.now() + 20, deferred: true }) };
  const scheduler = schedulerModule.createScheduler({ engine });
  await scheduler.run();
  scheduler.stop();
  assert.equal(scheduler.retryPending, false);
  await pause(60);
  assert.equal(calls, 1);
  await scheduler.run();
  assert.equal(scheduler.retryPending, false, 'no retry once stopped');
});
