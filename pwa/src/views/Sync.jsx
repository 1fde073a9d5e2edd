/** The sync screen: waiting changes, conflicts side by side, and rejected changes to fix or discard. */

import { useSyncLists } from '../data/hooks.js';
import { errorText, formatTime, t } from '../i18n/index.js';
import { navigate } from '../router.js';
import { discardChange, saveChange, sendAgain } from '../runtime.js';
import { Empty, Loading, Page } from './ui.jsx';
import { SyncSummary } from './Home.jsx';

/** A line that says which record a change is about. */
function describe(/** @type {{entity: string, fields?: any, op: string}} */ m, /** @type {any} */ record) {
  const r = { ...(record || {}), ...(m.fields || {}) };
  const what = t(`entities.${m.entity}`);
  const name = r.name || (r.category && t(`categories.${r.category}`)) || r.text || r.title || '';
  return m.op === 'delete' ? t('sync.deleted', { what, name }) : `${what}: ${name}`;
}

/** Show a field's value the way a person reads it. */
function valueText(/** @type {string} */ field, /** @type {any} */ value) {
  if (value === null || value === undefined || value === '') return '—';
  if (field === 'gender') return t(`gender.${value}`);
  if (field === 'status') return t(`status.member.${value}`);
  if (field === 'skills' && Array.isArray(value)) return value.map((s) => t(`skills.${s}`)).join(', ');
  if (typeof value === 'boolean') return value ? t('common.yes') : t('common.no');
  return String(value);
}

function fieldLabel(/** @type {string} */ field) {
  return t(`fields.${field}`);
}

/** Personal values the server masks for people other than the booth's volunteer and block president. */
const MASKABLE = ['phone', 'epic', 'complainant_phone'];

function ConflictCard({ item }) {
  const { conflict, shown } = item;
  const lost = conflict.lost || {};
  const kept = conflict.kept || {};
  const fields = [...new Set([...Object.keys(lost), ...Object.keys(kept)])];
  // A masked value (******3210) is not a value: sending it back would only be refused.
  const masked = Object.entries(lost).some(([f, v]) => MASKABLE.includes(f) && typeof v === 'string' && v.includes('*'));
  const name = shown?.record?.name || shown?.record?.title || '';

  async function keepTheirs() {
    await saveChange({ entity: 'conflict', id: conflict.id, fields: { resolved: true } });
  }
  async function useMine() {
    if (shown) await saveChange({ entity: conflict.entity, id: conflict.record_id, fields: { ...lost } });
    await saveChange({ entity: 'conflict', id: conflict.id, fields: { resolved: true } });
  }

  return (
    <li class="card conflict" data-testid="conflict">
      <strong>
        {t(`entities.${conflict.entity}`)}: {name}
      </strong>
      <p class="hint">{t(`sync.conflictKind.${conflict.kind}`)}</p>
      <table class="sides">
        <thead>
          <tr>
            <th />
            <th>{t('sync.theirs')}</th>
            <th>{t('sync.mine')}</th>
          </tr>
        </thead>
        <tbody>
          {fields.map((f) => (
            <tr key={f}>
              <th scope="row">{fieldLabel(f)}</th>
              <td data-testid="theirs">{valueText(f, kept[f])}</td>
              <td data-testid="mine">{valueText(f, lost[f])}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="actions">
        <button type="button" class="secondary" onClick={keepTheirs}>
          {t('sync.keepTheirs')}
        </button>
        <button type="button" class="primary" onClick={useMine} disabled={!shown || masked}>
          {t('sync.useMine')}
        </button>
      </div>
      {masked && <p class="hint">{t('sync.maskedLost')}</p>}
    </li>
  );
}

function fixPath(/** @type {{entity: string, id: string, seq: number, op: string}} */ m) {
  if (m.entity === 'member') return `/members/${m.id}?fix=${m.seq}`;
  if (m.entity === 'grievance') return `/grievances/new?fix=${m.seq}`;
  return null;
}

export function Sync() {
  const data = useSyncLists();
  if (!data) return <Loading />;
  return (
    <Page title={t('sync.title')}>
      <SyncSummary />
      <h2>
        {t('sync.conflicts')} ({data.conflicts.length})
      </h2>
      {!data.conflicts.length && <Empty text={t('sync.noConflicts')} />}
      <ul class="list">
        {data.conflicts.map((item) => (
          <ConflictCard key={item.conflict.id} item={item} />
        ))}
      </ul>
      <h2>
        {t('sync.rejected')} ({data.rejected.length})
      </h2>
      {!data.rejected.length && <Empty text={t('sync.noRejected')} />}
      <ul class="list">
        {data.rejected.map((m) => {
          const path = fixPath(m);
          return (
            <li key={m.seq} class="card rejected" data-testid="rejected">
              <strong>{describe(m, data.byKey.get(`${m.entity}:${m.id}`))}</strong>
              {m.set_aside ? (
                <>
                  <p class="error">{t('sync.setAside')}</p>
                  <p class="hint" data-testid="server-error">
                    {t('sync.serverAnswer', { status: m.error?.status || '?', code: m.error?.code || '', message: m.error?.message || '' })}
                  </p>
                </>
              ) : (
                <p class="error">{errorText(m.error)}</p>
              )}
              {m.error?.fields && Object.keys(m.error.fields).length > 0 && (
                <p class="hint">{t('sync.checkFields', { fields: Object.keys(m.error.fields).map(fieldLabel).join(', ') })}</p>
              )}
              <div class="actions">
                {m.set_aside && (
                  <button type="button" class="primary" onClick={() => sendAgain(m.seq)}>
                    {t('sync.sendAgain')}
                  </button>
                )}
                {path && m.op === 'upsert' && (
                  <button type="button" class={m.set_aside ? 'secondary' : 'primary'} onClick={() => navigate(path)}>
                    {t('sync.fix')}
                  </button>
                )}
                <button type="button" class="secondary" onClick={() => discardChange(m.seq)}>
                  {t('sync.discard')}
                </button>
              </div>
            </li>
          );
        })}
      </ul>
      <h2>
        {t('sync.waitingList')} ({data.outbox.length})
      </h2>
      {!data.outbox.length && <Empty text={t('sync.nothingWaiting')} />}
      <ul class="list">
        {data.outbox.map((m) => (
          <li key={m.seq} class="row plain" data-testid="waiting">
            <div class="row-main">
              <span>{describe(m, data.byKey.get(`${m.entity}:${m.id}`))}</span>
              <span class="sub">{formatTime(m.created_at)}</span>
            </div>
          </li>
        ))}
      </ul>
    </Page>
  );
}
