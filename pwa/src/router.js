/** A tiny history router: the current path, navigation, and matching paths to views. */

import { useEffect, useState } from 'preact/hooks';

/** @type {Set<() => void>} */
const listeners = new Set();

function notify() {
  listeners.forEach((listener) => listener());
}

/**
 * Go to an app path without reloading.
 * @param {string} to  path with optional ?query
 * @param {{replace?: boolean}} [options]
 */
export function navigate(to, { replace = false } = {}) {
  if (to === location.pathname + location.search) return;
  history[replace ? 'replaceState' : 'pushState'](null, '', to);
  window.scrollTo(0, 0);
  notify();
}

if (typeof window !== 'undefined') {
  window.addEventListener('popstate', notify);
  // Plain <a href="/..."> links inside the app navigate in place.
  document.addEventListener('click', (event) => {
    const target = /** @type {Element|null} */ (event.target);
    const link = target && target.closest ? target.closest('a[href]') : null;
    if (!link || event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const url = new URL(/** @type {HTMLAnchorElement} */ (link).href);
    if (url.origin !== location.origin || url.pathname.startsWith('/api/') || link.hasAttribute('download')) return;
    event.preventDefault();
    navigate(url.pathname + url.search);
  });
}

/** The current path and query; re-renders on navigation. */
export function useLocation() {
  const [, tick] = useState(0);
  useEffect(() => {
    const listener = () => tick((n) => n + 1);
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }, []);
  return { path: location.pathname, query: new URLSearchParams(location.search) };
}

/**
 * @template R
 * @param {(R & {path: string})[]} routes  patterns like "/members/:id"
 * @param {string} path
 * @returns {{route: R & {path: string}, params: Record<string, string>}|null}
 */
export function matchRoute(routes, path) {
  const parts = path.replace(/\/+$/, '').split('/');
  for (const route of routes) {
    const pattern = route.path.replace(/\/+$/, '').split('/');
    if (pattern.length !== parts.length) continue;
    /** @type {Record<string, string>} */
    const params = {};
    const ok = pattern.every((piece, i) => {
      if (piece.startsWith(':')) {
        params[piece.slice(1)] = decodeURIComponent(parts[i]);
        return parts[i] !== '';
      }
      return piece === parts[i];
    });
    if (ok) return { route, params };
  }
  return null;
}
