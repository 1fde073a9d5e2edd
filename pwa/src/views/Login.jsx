/** The login screen: phone and password; an ended session keeps the outbox safe. */

import { useState } from 'preact/hooks';

import { errorText, getLang, setLang, t } from '../i18n/index.js';
import { navigate } from '../router.js';
import { useSession, useSyncFigures } from '../data/hooks.js';
import { logIn } from '../runtime.js';
import { Field } from './ui.jsx';

export function Login({ query }) {
  const [phone, setPhone] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState(/** @type {string|null} */ (null));
  const [busy, setBusy] = useState(false);
  const session = useSession();
  const figures = useSyncFigures();
  const expired = session?.expired;
  const waiting = figures ? figures.waiting : 0;

  async function submit(/** @type {Event} */ event) {
    event.preventDefault();
    setError(null);
    if (!phone.trim() || !password) {
      setError(t('login.missing'));
      return;
    }
    setBusy(true);
    try {
      await logIn(phone.trim(), password);
      const next = query.get('next');
      navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : '/', { replace: true });
    } catch (err) {
      setError(errorText(/** @type {any} */ (err)));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="page login">
      <div class="brand">
        <img src="/icons/icon-192.png" alt="" width="72" height="72" />
        <h1>{t('app.name')}</h1>
        <p>{t('app.tagline')}</p>
      </div>
      {expired && (
        <p class="notice" role="status">
          {t('login.expired')} {waiting > 0 && t('login.waitingSafe', { n: waiting })}
        </p>
      )}
      {query.get('revoked') && (
        <p class="notice warn" role="status">
          {t('errors.device_revoked')}
        </p>
      )}
      <form onSubmit={submit} novalidate>
        <Field label={t('login.phone')} id="login-phone">
          <input
            id="login-phone"
            name="phone"
            type="tel"
            inputmode="numeric"
            autocomplete="username"
            value={phone}
            onInput={(e) => setPhone(/** @type {HTMLInputElement} */ (e.currentTarget).value)}
          />
        </Field>
        <Field label={t('login.password')} id="login-password">
          <input
            id="login-password"
            name="password"
            type="password"
            autocomplete="current-password"
            value={password}
            onInput={(e) => setPassword(/** @type {HTMLInputElement} */ (e.currentTarget).value)}
          />
        </Field>
        {error && (
          <p class="error" role="alert" data-testid="login-error">
            {error}
          </p>
        )}
        <button class="primary" type="submit" disabled={busy}>
          {busy ? t('login.busy') : t('login.submit')}
        </button>
      </form>
      <button class="link" type="button" onClick={() => setLang(getLang() === 'hi' ? 'en' : 'hi')}>
        {t('settings.switchTo')}
      </button>
    </section>
  );
}
