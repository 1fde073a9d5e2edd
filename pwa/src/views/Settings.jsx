/** Settings: language, storage on the phone, installing the app, and logging out. */

import { useEffect, useState } from 'preact/hooks';

import { useSyncFigures } from '../data/hooks.js';
import { getLang, setLang, t } from '../i18n/index.js';
import { getApi, logOut } from '../runtime.js';
import { removeSubscription } from './meetings.js';
import { Page } from './ui.jsx';

/** @type {any} */
let installPrompt = null;
if (typeof window !== 'undefined') {
  window.addEventListener('beforeinstallprompt', (event) => {
    // Keep Chrome's prompt for the install button instead of its own mini-bar.
    event.preventDefault();
    installPrompt = event;
  });
}

function isInstalled() {
  return matchMedia('(display-mode: standalone)').matches || /** @type {any} */ (navigator).standalone === true;
}

function megabytes(/** @type {number} */ bytes) {
  return (bytes / (1024 * 1024)).toFixed(1);
}

function useStorage() {
  const [info, setInfo] = useState(/** @type {{usage: number, quota: number, persisted: boolean}|null} */ (null));
  useEffect(() => {
    if (!navigator.storage || !navigator.storage.estimate) return;
    Promise.all([navigator.storage.estimate(), navigator.storage.persisted ? navigator.storage.persisted() : false]).then(
      ([estimate, persisted]) => setInfo({ usage: estimate.usage || 0, quota: estimate.quota || 0, persisted }),
    );
  }, []);
  return info;
}

export function Settings() {
  const lang = getLang();
  const storage = useStorage();
  const figures = useSyncFigures();
  const waitingCount = figures ? figures.waiting : undefined;
  const [confirming, setConfirming] = useState(false);
  const [canInstall, setCanInstall] = useState(!!installPrompt);
  const installed = isInstalled();

  useEffect(() => {
    const listener = () => setCanInstall(true);
    window.addEventListener('beforeinstallprompt', listener);
    return () => window.removeEventListener('beforeinstallprompt', listener);
  }, []);

  function choose(/** @type {'hi'|'en'} */ next) {
    setLang(next);
    // Remembered on the server too, for texts it sends (alerts); offline it waits for next time.
    getApi()
      .patch('/api/me', { language: next })
      .catch(() => {});
  }

  async function install() {
    if (!installPrompt) return;
    installPrompt.prompt();
    await installPrompt.userChoice;
    installPrompt = null;
    setCanInstall(false);
  }

  async function logout() {
    if (waitingCount && !confirming) {
      setConfirming(true);
      return;
    }
    // Alerts for this account must stop on this phone; offline this is best effort.
    await removeSubscription().catch(() => {});
    await logOut();
  }

  return (
    <Page title={t('settings.title')}>
      <div class="card">
        <h2>{t('settings.language')}</h2>
        <div class="choices" role="group" aria-label={t('settings.language')}>
          <button type="button" class={lang === 'hi' ? 'primary' : 'secondary'} aria-pressed={lang === 'hi'} onClick={() => choose('hi')} lang="hi">
            {t('languages.hi')}
          </button>
          <button type="button" class={lang === 'en' ? 'primary' : 'secondary'} aria-pressed={lang === 'en'} onClick={() => choose('en')} lang="en">
            {t('languages.en')}
          </button>
        </div>
      </div>
      <div class="card">
        <h2>{t('settings.storage')}</h2>
        {storage ? (
          <p data-testid="storage-used">{t('settings.storageUsed', { used: megabytes(storage.usage), quota: megabytes(storage.quota) })}</p>
        ) : (
          <p>{t('settings.storageUnknown')}</p>
        )}
        {storage && storage.persisted && <p class="hint">{t('settings.persisted')}</p>}
        {storage && !storage.persisted && !installed && (
          <p class="notice warn" role="status" data-testid="eviction-warning">
            {t('settings.evictionWarning')}
          </p>
        )}
      </div>
      <div class="card">
        <h2>{t('settings.install')}</h2>
        {installed ? (
          <p>{t('settings.installed')}</p>
        ) : canInstall ? (
          <button type="button" class="primary" onClick={install}>
            {t('settings.installButton')}
          </button>
        ) : (
          <p class="hint">{t('settings.installHint')}</p>
        )}
      </div>
      <div class="card">
        <h2>{t('settings.account')}</h2>
        {confirming && (
          <p class="notice warn" role="alert" data-testid="logout-warning">
            {t('settings.logoutWarning', { n: waitingCount || 0 })}
          </p>
        )}
        <button type="button" class={confirming ? 'danger' : 'secondary'} onClick={logout}>
          {confirming ? t('settings.logoutAnyway') : t('settings.logout')}
        </button>
        {confirming && (
          <button type="button" class="secondary" onClick={() => setConfirming(false)}>
            {t('common.cancel')}
          </button>
        )}
      </div>
      <p class="hint version" data-testid="release">
        {t('settings.version', { release: __RELEASE__ })}
      </p>
    </Page>
  );
}
