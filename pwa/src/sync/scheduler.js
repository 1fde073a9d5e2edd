/**
 * When to sync: on demand, and again after a failure with growing, jittered delays; never
 * before the time the server asked for (`Retry-After` on a 503 or 429).
 */

import { backoffDelay } from './engine.js';

/**
 * @param {object} options
 * @param {{sync: () => Promise<import('./engine.js').SyncReport>}} options.engine
 * @param {(report: import('./engine.js').SyncReport) => void} [options.onReport]
 * @param {(fn: () => void, ms: number) => any} [options.setTimer]
 * @param {(handle: any) => void} [options.clearTimer]
 * @param {() => number} [options.random]
 * @param {() => number} [options.now]
 */
export function createScheduler({
  engine,
  onReport = () => {},
  setTimer = (fn, ms) => setTimeout(fn, ms),
  clearTimer = (handle) => clearTimeout(handle),
  random = Math.random,
  now = Date.now,
}) {
  let attempt = 0;
  /** @type {any} */
  let timer = null;
  let stopped = false;

  async function run() {
    if (timer !== null) {
      clearTimer(timer);
      timer = null;
    }
    const report = await engine.sync();
    onReport(report);
    if (report.status === 'offline' || report.status === 'error') {
      // Retry by itself; `online`, opening the app and the timer also call run() sooner.
      if (!stopped) {
        const wait = report.retryAt ? report.retryAt - now() : 0;
        // A sync deferred until retryAt sent nothing: it is no new attempt.
        const delay = report.deferred ? wait : Math.max(backoffDelay(attempt++, random), wait);
        timer = setTimer(() => {
          timer = null;
          run();
        }, delay);
      }
    } else {
      attempt = 0;
    }
    return report;
  }

  function stop() {
    stopped = true;
    if (timer !== null) clearTimer(timer);
    timer = null;
  }

  return { run, stop, get attempt() { return attempt; }, get retryPending() { return timer !== null; } };
}
