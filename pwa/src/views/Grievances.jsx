/** Grievances: the list, the form, and the detail with notes and status history. */

import { useEffect, useState } from 'preact/hooks';

import { useRecord, useRecords, useRejectedChange, useUnits } from '../data/hooks.js';
import { formatTime, t } from '../i18n/index.js';
import { navigate } from '../router.js';
import { discardChange, saveChange } from '../runtime.js';
import { newId } from '../sync/outbox.js';
import { myBooths } from '../units.js';
import { GRIEVANCE_CATEGORIES, checkGrievance, requiredText } from '../validate.js';
import { AddLink, BoothField, Empty, Field, Loading, Page, RecordRow, RefusalNotice, StatusBadge, SyncBadge } from './ui.jsx';

export function Grievances() {
  const items = useRecords('grievance');
  if (!items) return <Loading />;
  const sorted = [...items].sort((a, b) => (b.record.created_at || 0) - (a.record.created_at || 0));
  return (
    <Page title={t('grievances.title')} actions={<AddLink href="/grievances/new" label={t('grievances.add')} />}>
      {!sorted.length && <Empty text={t('grievances.empty')} />}
      <ul class="list">
        {sorted.map(({ record, state }) => (
          <RecordRow key={record.id} href={`/grievances/${record.id}`} testid="grievance-row" kind="grievance" status={record.status} state={state}>
            <strong>{t(`categories.${record.category}`)}</strong>
            <span class="sub clamp">{record.description}</span>
            <span class="sub">{record.ref_no || t('grievances.noRefYet')}</span>
          </RecordRow>
        ))}
      </ul>
    </Page>
  );
}

const EMPTY = { category: '', description: '', complainant_name: '', complainant_phone: '', against: '' };

export function GrievanceForm({ query, session }) {
  const fixSeq = query.get('fix') ? Number(query.get('fix')) : null;
  const fix = useRejectedChange(fixSeq);
  const tree = useUnits();
  const data = fix === undefined || tree === undefined ? null : { fix, tree };
  const [form, setForm] = useState(/** @type {Record<string, any>|null} */ (null));
  const [id, setId] = useState(() => newId());
  const [booth, setBooth] = useState(/** @type {number|null} */ (null));
  const [errors, setErrors] = useState(/** @type {Record<string, string>} */ ({}));
  const booths = data ? myBooths(session, data.tree) : [];

  useEffect(() => {
    if (!data || form) return;
    setForm(fix ? { ...EMPTY, ...fix.fields } : { ...EMPTY });
    if (fix) setId(fix.id);
    setBooth(fix?.fields?.booth_id ?? booths[0]?.id ?? null);
  }, [fix, tree]);
  if (!data || !form) return <Loading />;

  const input = (/** @type {string} */ field) => (/** @type {Event} */ e) =>
    setForm({ ...form, [field]: /** @type {HTMLInputElement} */ (e.currentTarget).value });
  const err = (/** @type {string} */ field) => (errors[field] ? t(`validation.${errors[field]}`) : null);

  async function submit(/** @type {Event} */ event) {
    event.preventDefault();
    const { values, errors: found } = checkGrievance(form);
    if (!booth) found.booth_id = 'required';
    setErrors(found);
    if (Object.keys(found).length) return;
    // created_at is when it was typed here: the 21-day limit counts from this moment.
    await saveChange({
      entity: 'grievance',
      id,
      fields: { ...values, booth_id: booth, created_at: data.fix?.fields?.created_at ?? Date.now() },
    });
    if (fixSeq) await discardChange(fixSeq);
    navigate(`/grievances/${id}`, { replace: true });
  }

  return (
    <Page title={t('grievances.new')} back="/grievances">
      <RefusalNotice change={data.fix} />
      <form onSubmit={submit} novalidate class="form">
        {booths.length > 1 && (
          <BoothField id="g-booth" booths={booths} value={booth} onChange={setBooth} error={err('booth_id')} />
        )}
        <Field label={t('grievances.category')} id="g-category" error={err('category')}>
          <select id="g-category" name="category" value={form.category} onChange={input('category')}>
            <option value="">{t('common.choose')}</option>
            {GRIEVANCE_CATEGORIES.map((c) => (
              <option key={c} value={c}>
                {t(`categories.${c}`)}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t('grievances.description')} id="g-description" error={err('description')}>
          <textarea id="g-description" name="description" rows={5} value={form.description} onInput={input('description')} />
        </Field>
        <Field label={t('grievances.complainantName')} id="g-cname" error={err('complainant_name')} hint={t('grievances.anonymousHint')}>
          <input id="g-cname" name="complainant_name" value={form.complainant_name} onInput={input('complainant_name')} />
        </Field>
        <Field label={t('grievances.complainantPhone')} id="g-cphone" error={err('complainant_phone')}>
          <input id="g-cphone" name="complainant_phone" type="tel" inputmode="tel" value={form.complainant_phone ?? ''} onInput={input('complainant_phone')} />
        </Field>
        <Field label={t('grievances.against')} id="g-against" error={err('against')} hint={t('grievances.againstHint')}>
          <input id="g-against" name="against" value={form.against} onInput={input('against')} />
        </Field>
        <button class="primary" type="submit">
          {t('common.save')}
        </button>
        <p class="hint">{t('members.savedOnPhone')}</p>
      </form>
    </Page>
  );
}

export function GrievanceDetail({ params }) {
  const shown = useRecord('grievance', params.id);
  const allNotes = useRecords('grievance_note');
  const data =
    shown === undefined || !allNotes
      ? null
      : { shown, notes: allNotes.filter((n) => n.record.grievance_id === params.id) };
  const [text, setText] = useState('');
  const [error, setError] = useState(/** @type {string|null} */ (null));
  if (!data) return <Loading />;
  if (!data.shown) {
    return (
      <Page title={t('grievances.notFound')} back="/grievances">
        <p class="empty">{t('grievances.notFoundText')}</p>
      </Page>
    );
  }
  const { record, state } = data.shown;
  const notes = [...data.notes].sort((a, b) => (a.record.created_at || 0) - (b.record.created_at || 0));
  const history = Array.isArray(record.status_history) ? record.status_history : [];

  async function addNote(/** @type {Event} */ event) {
    event.preventDefault();
    const checked = requiredText(text, 5000);
    if (checked.error) {
      setError(t(checked.error));
      return;
    }
    setError(null);
    await saveChange({ entity: 'grievance_note', id: newId(), fields: { grievance_id: record.id, text: checked.value } });
    setText('');
  }

  return (
    <Page title={t(`categories.${record.category}`)} back="/grievances">
      <div class="record-state">
        <StatusBadge kind="grievance" status={record.status} />
        <SyncBadge state={state} />
      </div>
      <dl class="details">
        <dt>{t('grievances.refNo')}</dt>
        <dd data-testid="ref-no">{record.ref_no || t('grievances.noRefYet')}</dd>
        <dt>{t('grievances.description')}</dt>
        <dd class="prose">{record.description}</dd>
        {record.complainant_name && <dt>{t('grievances.complainantName')}</dt>}
        {record.complainant_name && <dd>{record.complainant_name}</dd>}
        {record.complainant_phone && <dt>{t('grievances.complainantPhone')}</dt>}
        {record.complainant_phone && <dd>{record.complainant_phone}</dd>}
        {record.against && <dt>{t('grievances.against')}</dt>}
        {record.against && <dd>{record.against}</dd>}
        {record.created_at && <dt>{t('grievances.reportedAt')}</dt>}
        {record.created_at && <dd>{formatTime(record.created_at)}</dd>}
        {record.due_at && <dt>{t('grievances.dueAt')}</dt>}
        {record.due_at && <dd>{formatTime(record.due_at)}</dd>}
      </dl>
      <h2>{t('grievances.history')}</h2>
      {!history.length && <p class="hint">{t('grievances.noHistory')}</p>}
      <ol class="timeline">
        {history.map((entry, i) => (
          <li key={i}>
            <StatusBadge kind="grievance" status={entry.status || entry.to} />
            <span class="sub">{entry.at ? formatTime(entry.at) : ''}</span>
            {entry.reason && <p>{entry.reason}</p>}
          </li>
        ))}
      </ol>
      <h2>{t('grievances.notes')}</h2>
      {!notes.length && <p class="hint">{t('grievances.noNotes')}</p>}
      <ul class="notes">
        {notes.map(({ record: note, state: noteState }) => (
          <li key={note.id} data-testid="note">
            <p class="prose">{note.text}</p>
            <span class="sub">{note.created_at ? formatTime(note.created_at) : ''}</span> <SyncBadge state={noteState} />
          </li>
        ))}
      </ul>
      <form onSubmit={addNote} class="form" novalidate>
        <Field label={t('grievances.addNote')} id="g-note" error={error}>
          <textarea id="g-note" name="text" rows={3} value={text} onInput={(e) => setText(/** @type {HTMLTextAreaElement} */ (e.currentTarget).value)} />
        </Field>
        <button class="secondary" type="submit">
          {t('grievances.saveNote')}
        </button>
      </form>
    </Page>
  );
}
