/** One sync at a time: Web Locks where the platform has them, a queue of promises where not. */

import assert from 'node:assert/strict';
import { test } from 'node:test';

const { withLock } = await import(new URL('../../pwa/src/sync/locks.js', import.meta.url).href);

test('with Web Locks, the lock is asked of the platform by its name', async () => {
  const asked = [];
  globalThis.navigator = { locks: { request: async (name, fn) => (asked.push(name), fn()) } };
  try {
    assert.equal(await withLock('booth-connect-sync', async () => 'ran'), 'ran');
    assert.deepEqual(asked, ['booth-connect-sync']);
  } finally {
    delete globalThis.navigator;
  }
});

test('without them, callers of one lock run one at a time, in order, even after a failure', async () => {
  const events = [];
  const step = (label, fail = false) => async () => {
    events.push(`${label} start`);
    await new Promise((resolve) => setTimeout(resolve, 5));
    events.push(`${label} end`);
    if (fail) throw new Error(label);
    return label;
  };
  const runs = [withLock('l', step('a')), withLock('l', step('b', true)), withLock('l', step('c')), withLock('other', step('x'))];
  const results = await Promise.allSettled(runs);
  assert.deepEqual(results.map((r) => r.value ?? r.reason.message), ['a', 'b', 'c', 'x']);
  const ofL = events.filter((e) => !e.startsWith('x'));
  assert.deepEqual(ofL, ['a start', 'a end', 'b start', 'b end', 'c start', 'c end']);
  assert.ok(events.indexOf('x start') < events.indexOf('a end'), 'another lock does not wait');
  assert.equal(await withLock('l', async () => 'again'), 'again');
});
