/** Small building blocks shared by the screens: page frame, fields, badges, progress. */

import { errorText, t } from '../i18n/index.js';
import { unitName } from '../units.js';
import { SQUAD_SIZE } from '../validate.js';

/**
 * @param {{title: string, back?: string, children?: any, actions?: any}} props
 */
export function Page({ title, back, children, actions }) {
  return (
    <section class="page">
      <div class="page-head">
        {back && (
          <a class="back" href={back} aria-label={t('common.back')}>
            ←
          </a>
        )}
        <h1>{title}</h1>
        {actions}
      </div>
      {children}
    </section>
  );
}

/**
 * A labelled form field with its error under it.
 * @param {{label: string, error?: string|null, hint?: string, children: any, id?: string}} props
 */
export function Field({ label, error, hint, children, id }) {
  return (
    <div class={error ? 'field invalid' : 'field'}>
      <label for={id}>{label}</label>
      {children}
      {hint && <p class="hint">{hint}</p>}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

/** A list screen's button to add a record. */
export function AddLink({ href, label }) {
  return (
    <a class="button primary small" href={href}>
      {label}
    </a>
  );
}

/**
 * One record in a list: a link to it, what it is, its status and its sync state.
 * @param {{href: string, testid: string, name?: string, kind: string, status?: string, state?: string, children: any}} props
 */
export function RecordRow({ href, testid, name, kind, status, state, children }) {
  return (
    <li>
      <a href={href} class="row" data-testid={testid} data-name={name}>
        <div class="row-main">{children}</div>
        <div class="row-badges">
          <StatusBadge kind={kind} status={status} />
          <SyncBadge state={state} />
        </div>
      </a>
    </li>
  );
}

/**
 * The booth a new record is for, when the person covers more than one.
 * @param {{id: string, booths: import('../units.js').Unit[], value: number|null, onChange: (id: number|null) => void, error?: string|null}} props
 */
export function BoothField({ id, booths, value, onChange, error }) {
  return (
    <Field label={t('members.booth')} id={id} error={error}>
      <select id={id} name="booth_id" value={value ?? ''} onChange={(e) => onChange(Number(/** @type {HTMLSelectElement} */ (e.currentTarget).value) || null)}>
        <option value="">{t('common.choose')}</option>
        {booths.map((b) => (
          <option key={b.id} value={b.id}>
            {unitName(b)}
          </option>
        ))}
      </select>
    </Field>
  );
}

/** Why the server refused the change being fixed, or that it was set aside. */
export function RefusalNotice({ change }) {
  if (!change?.error) return null;
  return (
    <p class="notice warn" role="alert">
      {change.set_aside ? t('sync.setAside') : `${t('sync.serverSaid')} ${errorText(change.error)}`}
    </p>
  );
}

/** A record's status in its domain (pending, approved...). */
export function StatusBadge({ kind, status }) {
  if (!status) return <span class="badge status-new">{t('status.unsent')}</span>;
  return (
    <span class={`badge status-${status}`} data-status={status}>
      {t(`status.${kind}.${status}`)}
    </span>
  );
}

/** Whether this phone's copy is synced, waiting, in conflict or rejected. */
export function SyncBadge({ state }) {
  if (!state) return null;
  return (
    <span class={`badge sync-${state}`} data-sync={state}>
      {t(`sync.state.${state}`)}
    </span>
  );
}

/** A booth's squad: approved and pending places out of 20. */
export function SquadProgress({ approved, pending, waitlisted, label }) {
  const filled = Math.min(approved + pending, SQUAD_SIZE);
  return (
    <div class="squad" data-testid="squad-progress">
      {label && <div class="squad-label">{label}</div>}
      <div class="bar-track" role="img" aria-label={t('home.squadAria', { approved, pending, size: SQUAD_SIZE })}>
        <div class="bar-approved" style={{ width: `${(approved / SQUAD_SIZE) * 100}%` }} />
        <div class="bar-pending" style={{ width: `${((filled - approved) / SQUAD_SIZE) * 100}%` }} />
      </div>
      <div class="squad-figures">
        <strong data-testid="squad-approved">{t('home.approvedOf', { n: approved, size: SQUAD_SIZE })}</strong>
        <span>{t('home.pendingN', { n: pending })}</span>
        {waitlisted > 0 && <span>{t('home.waitlistedN', { n: waitlisted })}</span>}
      </div>
    </div>
  );
}

/** Counts of a booth's members by status, from records as the phone shows them. */
export function squadCounts(/** @type {{record: any}[]} */ members) {
  const counts = { approved: 0, pending: 0, waitlisted: 0, rejected: 0 };
  for (const { record } of members) {
    const status = record.status || 'pending';
    if (status in counts) counts[/** @type {keyof typeof counts} */ (status)] += 1;
  }
  return counts;
}

export function Empty({ text }) {
  return <p class="empty">{text}</p>;
}

export function Loading() {
  return <p class="empty">{t('common.loading')}</p>;
}
