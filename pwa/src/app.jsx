/** The app frame: top bar, new-version prompt, the current screen, and the bottom tabs. */

import { useEffect } from 'preact/hooks';

import { useRoleLists, useSession, useSyncFigures } from './data/hooks.js';
import { t, useLang } from './i18n/index.js';
import { mayOpen } from './roles.js';
import { matchRoute, navigate, useLocation } from './router.js';
import { routes, tabs } from './routes.js';
import { useOnline, useSyncStatus } from './runtime.js';
import { applyUpdate, useUpdateReady } from './sw-register.js';
import { Loading, Page } from './views/ui.jsx';

function TopBar() {
  const online = useOnline();
  const { syncing } = useSyncStatus();
  return (
    <header class="topbar">
      <a href="/" class="title">
        {t('app.name')}
      </a>
      <span class={online ? 'net on' : 'net off'} data-testid="network" role="status">
        {syncing ? t('sync.running') : online ? t('net.online') : t('net.offline')}
      </span>
      <a href="/settings" class="settings-link">
        {t('nav.settings')}
      </a>
    </header>
  );
}

function UpdatePrompt() {
  const ready = useUpdateReady();
  if (!ready) return null;
  return (
    <div class="update" role="alert" data-testid="update-prompt">
      <span>{t('update.ready')}</span>
      <button type="button" class="primary small" onClick={applyUpdate}>
        {t('update.reload')}
      </button>
    </div>
  );
}

function Tabs({ role, roleLists, path }) {
  const figures = useSyncFigures();
  const attention = figures ? figures.attention : 0;
  return (
    <nav class="tabs" aria-label={t('nav.label')}>
      {tabs
        .filter((tab) => mayOpen(tab, role, roleLists))
        .map((tab) => {
          const active = tab.path === '/' ? path === '/' : path === tab.path || path.startsWith(tab.path + '/');
          const count = tab.key === 'sync' && figures ? figures.attention + figures.waiting : 0;
          return (
            <a key={tab.key} href={tab.path} class={active ? 'tab active' : 'tab'} aria-current={active ? 'page' : undefined}>
              <span>{t(`nav.${tab.key}`)}</span>
              {count > 0 && <span class={attention ? 'count alert' : 'count'}>{count}</span>}
            </a>
          );
        })}
    </nav>
  );
}

function NotFound() {
  return (
    <Page title={t('common.notFound')} back="/">
      <p class="empty">{t('common.notFoundText')}</p>
    </Page>
  );
}

export function App() {
  useLang();
  const { path, query } = useLocation();
  const session = useSession();
  const roleLists = useRoleLists();
  const match = matchRoute(routes, path);
  const loggedIn = !!(session && session.access_token);
  const needsLogin = session !== undefined && !loggedIn && !(match && match.route.public);

  useEffect(() => {
    if (needsLogin) navigate(`/login${path !== '/' ? `?next=${encodeURIComponent(path)}` : ''}`, { replace: true });
    else if (loggedIn && path === '/login') navigate('/', { replace: true });
  }, [needsLogin, loggedIn, path]);

  if (session === undefined || roleLists === undefined || needsLogin) return <Loading />;
  if (!loggedIn) {
    const View = match ? match.route.view : NotFound;
    return (
      <main class="main">
        <View params={match ? match.params : {}} query={query} />
      </main>
    );
  }
  const allowed = match && mayOpen(match.route, session.user.role, roleLists);
  const View = allowed ? match.route.view : NotFound;
  return (
    <div class="shell">
      <TopBar />
      <UpdatePrompt />
      <main class="main">
        <View key={path} params={match ? match.params : {}} query={query} session={session} />
      </main>
      <Tabs role={session.user.role} roleLists={roleLists} path={path} />
    </div>
  );
}
