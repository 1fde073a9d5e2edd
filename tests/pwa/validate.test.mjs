/** The app's checks of free text before a change is queued: as the server will judge it. */

import assert from 'node:assert/strict';
import { test } from 'node:test';

const { requiredText } = await import(new URL('../../pwa/src/validate.js', import.meta.url).href);

test('a required text is cleaned as the server stores it, and refused when empty or too long', () => {
  assert.deepEqual(requiredText('  नमस्ते  ', 10), { value: 'नमस्ते' });
  // Decomposed and composed forms are one text once NFC-normalised.
  assert.deepEqual(requiredText('e\u0301', 1), { value: '\u00e9' });
  assert.deepEqual(requiredText('   ', 10), { error: 'validation.required' });
  assert.deepEqual(requiredText('', 10, 'approvals.reasonRequired'), { error: 'approvals.reasonRequired' });
  assert.deepEqual(requiredText('a'.repeat(11), 10), { error: 'validation.tooLong' });
  assert.deepEqual(requiredText('a'.repeat(10), 10), { value: 'a'.repeat(10) });
});
