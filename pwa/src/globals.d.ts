/** Types the checker cannot know: build-time constants, stylesheets, the worker's scope. */

/** Set by the build (build.mjs): the release id of this build of the app. */
declare const __RELEASE__: string;

/** Stylesheets are bundled by esbuild; importing one has no value. */
declare module '*.css';

/** What the service worker uses of its global scope (the DOM library lacks it). */
interface ServiceWorkerGlobalScope extends EventTarget {
  registration: ServiceWorkerRegistration;
  clients: {
    claim(): Promise<void>;
    matchAll(options?: { type?: string; includeUncontrolled?: boolean }): Promise<any[]>;
    openWindow(url: string): Promise<any>;
  };
  location: Location;
  skipWaiting(): Promise<void>;
}

interface Window {
  /** The precache list the build writes into the worker. */
  __WB_MANIFEST: { url: string; revision: string | null }[];
}
