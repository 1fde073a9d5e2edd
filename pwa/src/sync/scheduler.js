/** When to sync: on demand, and again after a failure with growing, jittered delays. */

import { backoffDelay } from './engine.js';

/**
 * @param {object} options
 * @param {{sync: () => Promise<import('./engine.js').SyncReport>}} options.engine
 * @param {(report: import('./engine.js').SyncReport) => void} [options.onReport]
 * @param {(fn: () => void, ms: number) => any} [options.setTimer]
 * @param {(handle: any) => void} [options.clearTimer]
 * @param {() => number} [options.random]
 */
export function createScheduler({
  engine,
  onReport = () => {},
  setTimer = (fn, ms) => setTimeout(fn, ms),
  clearTimer = (handle) => clearTimeout(handle),
  random = Math.random,
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
        const delay = backoffDelay(attempt++, random);
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
