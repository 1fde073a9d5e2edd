/** The hybrid logical clock that stamps each change, so plain string order is clock order. */

/**
 * @param {number} ms
 * @param {number} counter
 * @param {string} deviceId
 */
export function formatHlc(ms, counter, deviceId) {
  return `${String(ms).padStart(13, '0')}-${counter.toString(16).padStart(4, '0')}-${deviceId}`;
}

/** @param {string|null|undefined} hlc */
function parseHlc(hlc) {
  if (!hlc) return { ms: 0, counter: 0 };
  const [ms, counter] = hlc.split('-');
  return { ms: Number(ms) || 0, counter: parseInt(counter, 16) || 0 };
}

/**
 * The next stamp: the wall clock when it has moved past the last stamp, else the last
 * stamp's time with the counter bumped (a phone's clock can go backwards).
 * @param {string|null|undefined} last  the last stamp issued or seen
 * @param {number} nowMs
 * @param {string} deviceId
 */
export function nextHlc(last, nowMs, deviceId) {
  const prev = parseHlc(last);
  if (nowMs > prev.ms) return formatHlc(nowMs, 0, deviceId);
  return formatHlc(prev.ms, prev.counter + 1, deviceId);
}

/**
 * The later of two stamps: the app's clock is never below the last `server_hlc` it saw.
 * @param {string|null|undefined} mine
 * @param {string|null|undefined} seen
 */
export function laterHlc(mine, seen) {
  if (!seen) return mine || null;
  if (!mine) return seen;
  const a = parseHlc(mine);
  const b = parseHlc(seen);
  if (b.ms > a.ms || (b.ms === a.ms && b.counter > a.counter)) return seen;
  return mine;
}
