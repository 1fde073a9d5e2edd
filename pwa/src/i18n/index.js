/** The language the app speaks (Hindi unless the person chose English) and its text lookup. */

import { useEffect, useState } from 'preact/hooks';

import en from './en.js';
import hi from './hi.js';

/** @type {Record<string, any>} */
const CATALOGUES = { hi, en };
const STORAGE_KEY = 'booth-connect-lang';

function stored() {
  try {
    const value = localStorage.getItem(STORAGE_KEY);
    return value === 'en' ? 'en' : 'hi';
  } catch {
    return 'hi';
  }
}

let current = typeof localStorage === 'undefined' ? 'hi' : stored();
/** @type {Set<(lang: string) => void>} */
const listeners = new Set();

/** The language the person picked on this phone, or null if they never picked one. */
export function chosenLang() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function getLang() {
  return current;
}

/** Set the language here and on the page; it is remembered across reloads. */
export function setLang(/** @type {string} */ lang) {
  current = lang === 'en' ? 'en' : 'hi';
  try {
    localStorage.setItem(STORAGE_KEY, current);
  } catch {
    // Private mode: the choice lasts for this visit only.
  }
  applyToDocument();
  listeners.forEach((listener) => listener(current));
}

export function applyToDocument() {
  document.documentElement.lang = current;
  document.title = t('app.name');
}

/** @param {string} key */
function lookup(catalogue, key) {
  return key.split('.').reduce((node, part) => (node == null ? undefined : node[part]), catalogue);
}

/**
 * The text for `key` in the current language, with `{name}` placeholders filled in.
 * @param {string} key
 * @param {Record<string, string|number>} [params]
 * @returns {string}
 */
export function t(key, params) {
  let text = lookup(CATALOGUES[current], key);
  if (typeof text !== 'string') text = lookup(hi, key);
  if (typeof text !== 'string') return key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in params ? String(params[name]) : `{${name}}`));
}

/** Whether the catalogue has a text for `key`. */
export function has(/** @type {string} */ key) {
  return typeof lookup(CATALOGUES[current], key) === 'string';
}

/**
 * The person-readable text for a server or app error code.
 * @param {{code?: string, message?: string}|null|undefined} error
 */
export function errorText(error) {
  const code = error && error.code;
  if (code && has(`errors.${code}`)) return t(`errors.${code}`);
  return t('errors.unknown');
}

/** Re-render the calling component when the language changes; returns the language. */
export function useLang() {
  const [lang, setState] = useState(current);
  useEffect(() => {
    listeners.add(setState);
    return () => {
      listeners.delete(setState);
    };
  }, []);
  return lang;
}

/** Dates and times the way the person's language writes them. */
export function formatTime(/** @type {number} */ ms) {
  return new Intl.DateTimeFormat(current === 'hi' ? 'hi-IN' : 'en-IN', {
    day: 'numeric',
    month: 'short',
    hour: 'numeric',
    minute: '2-digit',
  }).format(new Date(ms));
}

/** "5 minutes ago" in the person's language. */
export function formatAgo(/** @type {number} */ ms, now = Date.now()) {
  const seconds = Math.round((ms - now) / 1000);
  const rtf = new Intl.RelativeTimeFormat(current === 'hi' ? 'hi-IN' : 'en-IN', { numeric: 'auto' });
  const abs = Math.abs(seconds);
  if (abs < 60) return rtf.format(seconds, 'second');
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(seconds / 3600), 'hour');
  return rtf.format(Math.round(seconds / 86400), 'day');
}
