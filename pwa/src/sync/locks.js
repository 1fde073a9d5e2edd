/** Locks shared by tabs and the service worker (Web Locks), or within one context without them. */

/** @type {Map<string, Promise<any>>} */
const chains = new Map();

/**
 * Run `fn` while holding the lock `name`; callers queue in order.
 * @template T
 * @param {string} name
 * @param {() => Promise<T>} fn
 * @returns {Promise<T>}
 */
export function withLock(name, fn) {
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  if (locks) return locks.request(name, fn);
  // One settled promise stays per name (the app has two): nothing to clean up.
  const before = chains.get(name) || Promise.resolve();
  const run = before.then(fn, fn);
  chains.set(name, run.catch(() => {}));
  return run;
}
