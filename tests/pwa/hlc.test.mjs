/**
 * The app's clock against the shared HLC vectors (tests/sync/hlc_vectors.json, read by the
 * server's tests too): laterHlc keeps the later stamp by millisecond then counter, and on a
 * tie of both keeps its own; nextHlc moves past every stamp it was given.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { hlcModule } from './helpers.mjs';

const { formatHlc, laterHlc, nextHlc } = hlcModule;
const VECTORS = JSON.parse(readFileSync(new URL('../sync/hlc_vectors.json', import.meta.url), 'utf8')).cases;

/** The clock's part of a stamp: millisecond and counter. */
const clockOf = (hlc) => hlc.split('-').slice(0, 2).join('-');

for (const c of VECTORS) {
  test(`laterHlc, ${c.name}`, () => {
    const sameClock = clockOf(c.a) === clockOf(c.b);
    const expected = sameClock ? c.a : c.later === 'a' ? c.a : c.b;
    assert.equal(laterHlc(c.a, c.b), expected);
    const reversed = sameClock ? c.b : c.later === 'b' ? c.b : c.a;
    assert.equal(laterHlc(c.b, c.a), reversed);
  });

  test(`string order, ${c.name}`, () => {
    const expected = { a: [true, false], b: [false, true], equal: [false, false] }[c.later];
    assert.deepEqual([c.a > c.b, c.b > c.a], expected);
  });

  test(`nextHlc moves past both, ${c.name}`, () => {
    const later = c.later === 'b' ? c.b : c.a;
    const ms = Number(later.slice(0, 13));
    const next = nextHlc(laterHlc(c.a, c.b), ms, 'phoneZ');
    assert.ok(clockOf(next) > clockOf(c.a) && clockOf(next) > clockOf(c.b), `${next} after ${c.a} and ${c.b}`);
  });
}

test('laterHlc with one side missing keeps the other, or nothing', () => {
  assert.equal(laterHlc(null, '1767225600000-0001-server'), '1767225600000-0001-server');
  assert.equal(laterHlc('1767225600000-0001-phone', null), '1767225600000-0001-phone');
  assert.equal(laterHlc('1767225600000-0001-phone', ''), '1767225600000-0001-phone');
  assert.equal(laterHlc(undefined, undefined), null);
  assert.equal(laterHlc('', ''), null);
  assert.equal(laterHlc(null, '0000000000000-0000-server'), '0000000000000-0000-server', 'even the first stamp');
});

test('formatHlc pads the millisecond to 13 digits and the counter to 4 hex digits', () => {
  assert.equal(formatHlc(5, 10, 'p'), '0000000000005-000a-p');
  assert.equal(formatHlc(1767225600000, 0xffff, 'dev-1'), '1767225600000-ffff-dev-1');
});

test('nextHlc takes the wall clock once it has moved past the last stamp', () => {
  assert.equal(nextHlc('1767225600000-0005-x', 1767225600001, 'me'), '1767225600001-0000-me');
  assert.equal(nextHlc(null, 1767225600000, 'me'), '1767225600000-0000-me');
  assert.equal(nextHlc(undefined, 0, 'me'), '0000000000000-0001-me');
});

test('nextHlc bumps the counter when the clock stands still or goes back', () => {
  assert.equal(nextHlc('1767225600000-0005-x', 1767225600000, 'me'), '1767225600000-0006-me');
  assert.equal(nextHlc('1767225600000-0009-x', 1767225599000, 'me'), '1767225600000-000a-me');
  assert.equal(nextHlc('1767225600000-00ff-x', 1, 'me'), '1767225600000-0100-me');
});

test('a malformed last stamp counts as the start of time', () => {
  assert.equal(nextHlc('garbage', 7, 'me'), '0000000000007-0000-me');
  assert.equal(nextHlc('x-zz-y', 0, 'me'), '0000000000000-0001-me');
  assert.equal(laterHlc('garbage', '0000000000001-0000-s'), '0000000000001-0000-s');
});
