/** The booth's roster: every member as the phone shows it, with status and sync state. */

import { useState } from 'preact/hooks';

import { useRoster } from '../data/hooks.js';
import { t } from '../i18n/index.js';
import { unitName } from '../units.js';
import { AddLink, Empty, Loading, Page, RecordRow } from './ui.jsx';

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
    <Page title={t('members.title')} actions={<AddLink href="/members/new" label={t('members.add')} />}>
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
          <RecordRow key={record.id} href={`/members/${record.id}`} testid="member-row" name={record.name} kind="member" status={record.status} state={state}>
            <strong>{record.name}</strong>
            <span class="sub">
              {record.age} · {t(`gender.${record.gender}`)}
              {booths.length > 1 && boothById.has(record.booth_id) && ` · ${unitName(boothById.get(record.booth_id))}`}
            </span>
          </RecordRow>
        ))}
      </ul>
    </Page>
  );
}
