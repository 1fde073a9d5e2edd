/** Entry point: open local data, speak the chosen language, draw the app, start syncing. */

import './styles.css';

import { render } from 'preact';

import { App } from './app.jsx';
import { applyToDocument } from './i18n/index.js';
import { boot, syncNow } from './runtime.js';
import { registerServiceWorker } from './sw-register.js';

applyToDocument();
registerServiceWorker();
boot().then(() => {
  render(<App />, /** @type {HTMLElement} */ (document.getElementById('app')));
  syncNow();
});
