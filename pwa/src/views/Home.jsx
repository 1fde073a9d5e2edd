/** Home: sync state (last synced, waiting, needing attention) and the squad's progress. */

import { useRoster, useSyncFigures } from '../data/hooks.js';
import { formatAgo, t } from '../i18n/index.js';
import { syncNow, useOnline, useSyncStatus } from '../runtime.js';
import { unitName } from '../units.js';
import { AlertsOffer } from './meetings.js';
import { Loading, SquadProgress, squadCounts } from './ui.jsx';

/** Waiting, needing-attention and last-synced figures, shared with the sync screen. */
export function SyncSummary() {
  const figures = useSyncFigures();
  const online = useOnline();
  const { syncing } = useSyncStatus();
  if (!figures) return <Loading />;
  const attention = figures.attention;
  return (
    <div class="card sync-card" data-testid="sync-summary">
      <div class="sync-line">
        <span class={online ? 'dot on' : 'dot off'} />
        <span data-testid="last-synced">
          {syncing
            ? t('sync.running')
            : figures.lastSynced
              ? t('home.lastSynced', { ago: formatAgo(figures.lastSynced) })
              : t('home.neverSynced')}
        </span>
      </div>
      <div class="figures">
        <a href="/sync" class="figure">
          <strong data-testid="waiting-count">{figures.waiting}</strong>
          <span>{t('home.waiting')}</span>
        </a>
        <a href="/sync" class={attention ? 'figure alert' : 'figure'}>
          <strong data-testid="attention-count">{attention}</strong>
          <span>{t('home.attention')}</span>
        </a>
      </div>
      <p class="sync-words" data-testid="sync-words">
        {figures.waiting > 0
          ? t('home.waitingWords', { n: figures.waiting })
          : attention > 0
            ? t('home.attentionWords', { n: attention })
            : t('home.allSynced')}
      </p>
      <button type="button" class="secondary" disabled={!online || syncing} onClick={() => syncNow()}>
        {online ? t('sync.now') : t('sync.offline')}
      </button>
    </div>
  );
}

export function Home({ session }) {
  const data = useRoster(session);
  const user = session.user;
  const booths = data ? data.booths : [];
  return (
    <section class="page">
      <div class="greeting">
        <h1>{t('home.hello', { name: user.name })}</h1>
        <p>
          {t(`roles.${user.role}`)} · {unitName(user.unit)}
        </p>
      </div>
      <SyncSummary />
      <AlertsOffer />
      <div class="card">
        <h2>{t('home.squad')}</h2>
        {!data ? (
          <Loading />
        ) : (
          booths.map((booth) => {
            const counts = squadCounts(data.members.filter((m) => m.record.booth_id === booth.id));
            return <SquadProgress key={booth.id} label={booths.length > 1 ? unitName(booth) : ''} {...counts} />;
          })
        )}
        {data && !booths.length && <p class="hint">{t('home.noBooths')}</p>}
      </div>
      <div class="quick">
        <a class="button primary" href="/members/new">
          {t('members.add')}
        </a>
        <a class="button secondary" href="/grievances/new">
          {t('grievances.add')}
        </a>
      </div>
    </section>
  );
}
