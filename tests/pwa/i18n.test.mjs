/** Every text the app shows is in both catalogues, and every key the code asks for exists. */

import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const srcDir = fileURLToPath(new URL('../../pwa/src/', import.meta.url));
const { default: hi } = await import(new URL('i18n/hi.js', `file://${srcDir}`).href);
const { default: en } = await import(new URL('i18n/en.js', `file://${srcDir}`).href);

function keys(node, prefix = '') {
  return Object.entries(node).flatMap(([k, v]) =>
    typeof v === 'string' ? [prefix + k] : keys(v, `${prefix}${k}.`),
  );
}

function lookup(catalogue, key) {
  return key.split('.').reduce((node, part) => (node == null ? undefined : node[part]), catalogue);
}

function sources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : /\.(js|jsx)$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

test('Hindi and English have the same keys', () => {
  assert.deepEqual(keys(en).sort(), keys(hi).sort());
});

test('placeholders match between the languages', () => {
  for (const key of keys(hi)) {
    const names = (text) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    assert.deepEqual(names(lookup(en, key)), names(lookup(hi, key)), key);
  }
});

test('every literal key the screens ask for is in the catalogue', () => {
  const missing = [];
  for (const file of sources(srcDir)) {
    const code = readFileSync(file, 'utf8');
    for (const match of code.matchAll(/\bt\('([a-zA-Z_.]+)'/g)) {
      if (typeof lookup(hi, match[1]) !== 'string') missing.push(`${match[1]} (${file})`);
    }
  }
  assert.deepEqual(missing, []);
});

test('the Hindi catalogue is in Hindi', () => {
  const latinOnly = keys(hi).filter((k) => {
    const text = lookup(hi, k);
    return !/[\u0900-\u097F]/.test(text) && !['settings.switchTo', 'languages.en'].includes(k);
  });
  assert.deepEqual(latinOnly, []);
});

test('every error code the sync engine rejects with has a text', () => {
  const syncDir = fileURLToPath(new URL('../../sync/', import.meta.url));
  const engine = readdirSync(syncDir, { recursive: true })
    .filter((file) => file.endsWith('.py'))
    .map((file) => readFileSync(join(syncDir, file), 'utf8'))
    .join('\n');
  const codes = new Set([...engine.matchAll(/Rejection\(\s*"([a-z_]+)"/g)].map((m) => m[1]));
  assert.ok(codes.size > 5);
  const missing = [...codes].filter((code) => typeof hi.errors[code] !== 'string' || typeof en.errors[code] !== 'string');
  assert.deepEqual(missing, []);
});
