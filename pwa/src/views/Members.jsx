/** The booth's roster: every member as the phone shows it, with status and sync state. */

import { useState } from 'preact/hooks';

import { useRoster } from '../data/hooks.js';
import { t } from '../i18n/index.js';
import { unitName } from '../units.js';
import { Empty, Loading, Page, StatusBadge, SyncBadge } from './ui.jsx';

const STATUS_ORDER = { pending: 0, approved: 1, waitlisted: 2, rejected: 3 };

export function Members({ session }) {
  const [search, setSearch] = useState('');
  const data = useRoster(session);
  if (!data) return <Loading />;
  const { booths, boothById } = data;
  const needle = search.trim().toLowerCase();
  const shown = data.members
    .filter((m) => !needle || (m.record.name || '').toLowerCase().includes(needle) || (m.record.phone || '').includes(needle))
    .sort(
      (a, b) =>
        (STATUS_ORDER[a.record.status] ?? -1) - (STATUS_ORDER[b.record.status] ?? -1) ||
        (a.record.created_at || 0) - (b.record.created_at || 0),
    );
  return (
    <Page
      title={t('members.title')}
      actions={
        <a class="button primary small" href="/members/new">
          {t('members.add')}
        </a>
      }
    >
      <input
        class="search"
        type="search"
        placeholder={t('members.search')}
        aria-label={t('members.search')}
        value={search}
        onInput={(e) => setSearch(/** @type {HTMLInputElement} */ (e.currentTarget).value)}
      />
      <p class="hint" data-testid="member-count">
        {t('members.count', { n: data.members.length })}
      </p>
      {!shown.length && <Empty text={t('members.empty')} />}
      <ul class="list">
        {shown.map(({ record, state }) => (
          <li key={record.id}>
            <a href={`/members/${record.id}`} class="row" data-testid="member-row" data-name={record.name}>
              <div class="row-main">
                <strong>{record.name}</strong>
                <span class="sub">
                  {record.age} · {t(`gender.${record.gender}`)}
                  {booths.length > 1 && boothById.has(record.booth_id) && ` · ${unitName(boothById.get(record.booth_id))}`}
                </span>
              </div>
              <div class="row-badges">
                <StatusBadge kind="member" status={record.status} />
                <SyncBadge state={state} />
              </div>
            </a>
          </li>
        ))}
      </ul>
    </Page>
  );
}
