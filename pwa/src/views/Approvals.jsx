/** Approvals (block president): every pending member of the block's booths, and each booth's progress. */

import { useState } from 'preact/hooks';

import { useRoster } from '../data/hooks.js';
import { t } from '../i18n/index.js';
import { saveChange } from '../runtime.js';
import { unitName } from '../units.js';
import { requiredText } from '../validate.js';
import { Empty, Loading, Page, SquadProgress, StatusBadge, SyncBadge, squadCounts } from './ui.jsx';

function PendingMember({ shown, boothLabel }) {
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState('');
  const [error, setError] = useState(/** @type {string|null} */ (null));
  const { record } = shown;
  // The approval is for what the president saw: the version they saw goes with it.
  const decide = (/** @type {Record<string, any>} */ fields) =>
    saveChange({ entity: 'member', id: record.id, fields, baseVersion: shown.version });

  async function reject() {
    const checked = requiredText(reason, 500, 'approvals.reasonRequired');
    if (checked.error) {
      setError(t(checked.error));
      return;
    }
    await decide({ status: 'rejected', status_reason: checked.value });
  }

  return (
    <li class="card approval" data-testid="approval" data-name={record.name}>
      <div class="row-main">
        <strong>{record.name}</strong>
        <span class="sub">
          {record.age} · {t(`gender.${record.gender}`)}
          {boothLabel && ` · ${boothLabel}`}
        </span>
        {record.phone && <span class="sub">{record.phone}</span>}
        {record.skills?.length > 0 && <span class="sub">{record.skills.map((s) => t(`skills.${s}`)).join(', ')}</span>}
        <div>
          <StatusBadge kind="member" status={record.status} />
          <SyncBadge state={shown.state} />
        </div>
      </div>
      {!rejecting ? (
        <div class="actions">
          <button type="button" class="primary" onClick={() => decide({ status: 'approved' })}>
            {t('approvals.approve')}
          </button>
          <button type="button" class="secondary" onClick={() => setRejecting(true)}>
            {t('approvals.reject')}
          </button>
        </div>
      ) : (
        <div class="reject-form">
          <label for={`reason-${record.id}`}>{t('approvals.reason')}</label>
          <textarea
            id={`reason-${record.id}`}
            name="status_reason"
            rows={2}
            value={reason}
            onInput={(e) => setReason(/** @type {HTMLTextAreaElement} */ (e.currentTarget).value)}
          />
          {error && <p class="error">{error}</p>}
          <div class="actions">
            <button type="button" class="danger" onClick={reject}>
              {t('approvals.confirmReject')}
            </button>
            <button type="button" class="secondary" onClick={() => setRejecting(false)}>
              {t('common.cancel')}
            </button>
          </div>
        </div>
      )}
    </li>
  );
}

export function Approvals({ session }) {
  const data = useRoster(session);
  if (!data) return <Loading />;
  const { booths, boothById } = data;
  // A decision taken here and waiting to sync stays in view until the server has it.
  const pending = data.members.filter(
    (m) => m.record.status === 'pending' || (m.pending.some((p) => p.fields && 'status' in p.fields) && m.version !== null),
  );
  pending.sort((a, b) => (a.record.booth_id - b.record.booth_id) || (a.record.created_at || 0) - (b.record.created_at || 0));
  return (
    <Page title={t('approvals.title')}>
      <p class="hint" data-testid="pending-total">
        {t('approvals.pendingTotal', { n: data.members.filter((m) => m.record.status === 'pending').length })}
      </p>
      {!pending.length && <Empty text={t('approvals.empty')} />}
      <ul class="list">
        {pending.map((shown) => (
          <PendingMember
            key={shown.record.id}
            shown={shown}
            boothLabel={boothById.has(shown.record.booth_id) ? unitName(boothById.get(shown.record.booth_id)) : ''}
          />
        ))}
      </ul>
      <h2>{t('approvals.byBooth')}</h2>
      {!booths.length && <p class="hint">{t('home.noBooths')}</p>}
      {booths.map((booth) => (
        <SquadProgress
          key={booth.id}
          label={unitName(booth)}
          {...squadCounts(data.members.filter((m) => m.record.booth_id === booth.id))}
        />
      ))}
    </Page>
  );
}
