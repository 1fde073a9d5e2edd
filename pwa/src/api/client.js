/** Talking to the server: JSON requests, the session's tokens and their refresh, error codes. */

import { META, announceChange } from '../db/index.js';
import { withLock } from '../sync/locks.js';

/** An error with the server's stable code (or `network` when no answer came). */
export class ApiError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   * @param {number} status  0 when the request never got an answer
   * @param {Record<string, any>} [fields]
   */
  constructor(code, message, status, fields = {}) {
    super(message);
    this.code = code;
    this.status = status;
    this.fields = fields;
    /** @type {number|undefined} seconds the server asked us to wait (`Retry-After`) */
    this.retryAfter = undefined;
  }
}

/**
 * `Retry-After` as seconds from now: a number of seconds or an HTTP date; undefined otherwise.
 * @param {string|null} value
 * @param {number} [now]
 */
export function retryAfterSeconds(value, now = Date.now()) {
  if (!value) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

/** Codes after which the person has to log in again (the outbox stays). */
const SESSION_ENDED = new Set([
  'session_expired',
  'token_revoked',
  'token_invalid',
  'unauthorized',
  'account_disabled',
]);

/**
 * @typedef {object} Session
 * @property {string} access_token
 * @property {string} refresh_token
 * @property {{id: number, name: string, role: string, language?: string, unit: {id: number, type: string, name: string}}} user
 * @property {boolean} [expired]  the session ended (the tokens are gone; the outbox stays)
 */

/**
 * @param {Uint8Array|string} text
 * @returns {Promise<Uint8Array>}
 */
async function gzip(text) {
  const stream = new Blob([/** @type {BlobPart} */ (text)]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Bodies larger than this go gzip-compressed: on 2G every byte is felt. */
const GZIP_OVER = 2048;

/**
 * @param {object} options
 * @param {import('../db/index.js').LocalDb} options.db  where the session lives
 * @param {typeof fetch} [options.fetch]
 * @param {string} [options.base]  origin of the server; empty for the app's own
 */
export function createApi({ db, fetch: doFetch = globalThis.fetch.bind(globalThis), base = '' }) {
  /**
   * @param {string} method
   * @param {string} path
   * @param {{body?: any, token?: string|null}} [options]
   */
  async function send(method, path, { body, token } = {}) {
    /** @type {Record<string, string>} */
    const headers = { Accept: 'application/json' };
    /** @type {any} */
    let payload;
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body);
      if (payload.length > GZIP_OVER && typeof CompressionStream !== 'undefined') {
        payload = await gzip(payload);
        headers['Content-Encoding'] = 'gzip';
      }
    }
    if (token) headers.Authorization = `Bearer ${token}`;
    let response;
    try {
      response = await doFetch(base + path, { method, headers, body: payload, cache: 'no-store' });
    } catch (err) {
      throw new ApiError('network', String(err), 0);
    }
    if (response.status === 204) return null;
    let data = null;
    try {
      data = await response.json();
    } catch {
      // A proxy's HTML error page, or an answer cut off by a dropped signal.
      if (response.ok) throw new ApiError('network', 'The answer was cut off.', 0);
    }
    if (!response.ok) {
      const error = data && data.error;
      const failure = new ApiError(
        error?.code || (response.status >= 500 ? 'internal_error' : 'http_error'),
        error?.message || response.statusText,
        response.status,
        error?.fields || {},
      );
      failure.retryAfter = retryAfterSeconds(response.headers.get('Retry-After'));
      throw failure;
    }
    return data;
  }

  /** @returns {Promise<Session|undefined>} */
  const session = () => db.get(META, 'session');

  async function endSession() {
    const current = await session();
    if (current) {
      await db.put(META, { user: current.user, expired: true }, 'session');
      announceChange();
    }
  }

  /**
   * Swap the refresh token for a new pair, once across tabs and the worker: a spent refresh
   * token presented twice revokes the device.
   * @param {string} staleAccess  the access token that was refused
   */
  function refresh(staleAccess) {
    return withLock('booth-connect-auth', async () => {
      const current = await session();
      if (!current || !current.refresh_token) throw new ApiError('session_expired', '', 401);
      if (current.access_token !== staleAccess) return current.access_token;
      try {
        const pair = await send('POST', '/api/auth/refresh', { token: current.refresh_token });
        await db.put(
          META,
          { ...current, access_token: pair.access_token, refresh_token: pair.refresh_token },
          'session',
        );
        return pair.access_token;
      } catch (err) {
        if (err instanceof ApiError && err.status === 401 && err.code !== 'device_revoked') {
          await endSession();
          throw new ApiError('session_expired', err.message, 401);
        }
        throw err;
      }
    });
  }

  /**
   * A request as the logged-in person; refreshes an expired access token once.
   * @param {string} method
   * @param {string} path
   * @param {any} [body]
   */
  async function authed(method, path, body) {
    const current = await session();
    if (!current || !current.access_token) throw new ApiError('session_expired', '', 401);
    try {
      return await send(method, path, { body, token: current.access_token });
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 401) throw err;
      if (err.code === 'token_expired') {
        const token = await refresh(current.access_token);
        return send(method, path, { body, token });
      }
      if (SESSION_ENDED.has(err.code)) {
        await endSession();
        throw new ApiError('session_expired', err.message, 401);
      }
      throw err;
    }
  }

  return {
    send,
    session,
    get: (/** @type {string} */ path) => authed('GET', path),
    post: (/** @type {string} */ path, /** @type {any} */ body) => authed('POST', path, body),
    patch: (/** @type {string} */ path, /** @type {any} */ body) => authed('PATCH', path, body),

    /**
     * @param {string} phone
     * @param {string} password
     * @param {string} deviceId
     * @param {string} deviceName
     * @returns {Promise<Session>}
     */
    async login(phone, password, deviceId, deviceName) {
      const answer = await send('POST', '/api/auth/login', {
        body: { phone, password, device_id: deviceId, device_name: deviceName },
      });
      /** @type {Session} */
      const fresh = {
        access_token: answer.access_token,
        refresh_token: answer.refresh_token,
        user: answer.user,
      };
      await db.put(META, fresh, 'session');
      announceChange();
      return fresh;
    },

    /** End the session on the server; the caller wipes local data. */
    async logout() {
      try {
        await authed('POST', '/api/auth/logout');
      } catch (err) {
        // Offline or already ended: the tokens die with the wiped database anyway.
        if (!(err instanceof ApiError)) throw err;
      }
    },
  };
}

/** @typedef {ReturnType<typeof createApi>} Api */
