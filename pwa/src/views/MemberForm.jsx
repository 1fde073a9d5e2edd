/** Add or edit a member: fields named as in the protocol, checked as the server checks them. */

import { useEffect, useState } from 'preact/hooks';

import { useRecord, useRejectedChange, useUnits } from '../data/hooks.js';
import { t } from '../i18n/index.js';
import { navigate } from '../router.js';
import { discardChange, saveChange } from '../runtime.js';
import { newId } from '../sync/outbox.js';
import { myBooths } from '../units.js';
import { GENDERS, SKILLS, changedFields, checkMember } from '../validate.js';
import { BoothField, Field, Loading, Page, RefusalNotice, StatusBadge, SyncBadge } from './ui.jsx';

const EMPTY = { name: '', age: '', gender: '', phone: '', epic: '', skills: [], consent: false, notes: '' };

/** @param {Record<string, any>} record */
function formFrom(record) {
  return {
    name: record.name ?? '',
    age: record.age != null ? String(record.age) : '',
    gender: record.gender ?? '',
    phone: record.phone ?? '',
    epic: record.epic ?? '',
    skills: record.skills ?? [],
    consent: record.consent === true,
    notes: record.notes ?? '',
  };
}

export function MemberForm({ params, query, session }) {
  const fixSeq = query.get('fix') ? Number(query.get('fix')) : null;
  const shown = useRecord('member', params.id);
  const fix = useRejectedChange(fixSeq);
  const tree = useUnits();
  const data = shown === undefined || fix === undefined || tree === undefined ? null : { shown, fix, tree };
  const [id] = useState(() => params.id || newId());
  const [form, setForm] = useState(/** @type {Record<string, any>|null} */ (null));
  const [booth, setBooth] = useState(/** @type {number|null} */ (null));
  const [errors, setErrors] = useState(/** @type {Record<string, string>} */ ({}));
  const [confirmDelete, setConfirmDelete] = useState(false);

  const booths = data ? myBooths(session, data.tree) : [];
  useEffect(() => {
    // Fill the form once, from the record (and a rejected change being fixed).
    if (!data || form) return;
    const base = data.shown ? formFrom(data.shown.record) : { ...EMPTY };
    setForm(data.fix ? { ...base, ...formFrom({ ...data.shown?.record, ...data.fix.fields }) } : base);
    setBooth(data.shown?.record.booth_id ?? booths[0]?.id ?? null);
  }, [shown, fix, tree]);

  if (!data || !form) return <Loading />;
  if (params.id && !data.shown) {
    return (
      <Page title={t('members.notFound')} back="/members">
        <p class="empty">{t('members.notFoundText')}</p>
      </Page>
    );
  }
  // Never seen by the server: send every field, since it may arrive as a creation.
  const isNew = !shown || shown.version === null;
  const set = (/** @type {string} */ field, /** @type {any} */ value) => setForm({ ...form, [field]: value });
  const input = (/** @type {string} */ field) => (/** @type {Event} */ e) =>
    set(field, /** @type {HTMLInputElement} */ (e.currentTarget).value);
  const err = (/** @type {string} */ field) => (errors[field] ? t(`validation.${errors[field]}`) : null);

  async function submit(/** @type {Event} */ event) {
    event.preventDefault();
    const { values, errors: found } = checkMember(form, isNew);
    if (isNew && !booth) found.booth_id = 'required';
    setErrors(found);
    if (Object.keys(found).length) {
      const first = document.querySelector('.field.invalid input, .field.invalid select, .field.invalid textarea');
      if (first) /** @type {HTMLElement} */ (first).focus();
      return;
    }
    const fields = isNew ? { ...values, booth_id: booth } : changedFields(values, shown.record);
    if (Object.keys(fields).length) await saveChange({ entity: 'member', id, fields });
    if (fixSeq) await discardChange(fixSeq);
    navigate('/members');
  }

  async function remove() {
    await saveChange({ entity: 'member', id, op: 'delete' });
    if (fixSeq) await discardChange(fixSeq);
    navigate('/members', { replace: true });
  }

  const rejectedBy = data.fix || shown?.rejected[shown.rejected.length - 1];
  return (
    <Page title={params.id ? t('members.edit') : t('members.new')} back="/members">
      {shown && (
        <div class="record-state">
          <StatusBadge kind="member" status={shown.record.status} />
          <SyncBadge state={shown.state} />
          {shown.record.status === 'rejected' && shown.record.status_reason && (
            <p class="hint">{t('members.rejectedBecause', { reason: shown.record.status_reason })}</p>
          )}
          {shown.record.status === 'approved' && <p class="hint">{t('members.editApproved')}</p>}
        </div>
      )}
      <RefusalNotice change={rejectedBy} />
      <form onSubmit={submit} novalidate class="form">
        {isNew && booths.length > 1 && (
          <BoothField id="m-booth" booths={booths} value={booth} onChange={setBooth} error={err('booth_id')} />
        )}
        <Field label={t('members.name')} id="m-name" error={err('name')}>
          <input id="m-name" name="name" autocomplete="off" value={form.name} onInput={input('name')} maxLength={120} />
        </Field>
        <Field label={t('members.age')} id="m-age" error={err('age')} hint={t('members.ageHint')}>
          <input id="m-age" name="age" inputmode="numeric" value={form.age} onInput={input('age')} maxLength={2} />
        </Field>
        <fieldset class={errors.gender ? 'field invalid' : 'field'}>
          <legend>{t('members.gender')}</legend>
          <div class="choices">
            {GENDERS.map((g) => (
              <label key={g} class="choice">
                <input type="radio" name="gender" value={g} checked={form.gender === g} onChange={() => set('gender', g)} />
                {t(`gender.${g}`)}
              </label>
            ))}
          </div>
          {errors.gender && <p class="error">{err('gender')}</p>}
        </fieldset>
        <Field label={t('members.phone')} id="m-phone" error={err('phone')} hint={t('members.phoneHint')}>
          <input id="m-phone" name="phone" type="tel" inputmode="tel" value={form.phone} onInput={input('phone')} />
        </Field>
        <Field label={t('members.epic')} id="m-epic" error={err('epic')} hint={t('members.epicHint')}>
          <input id="m-epic" name="epic" autocapitalize="characters" value={form.epic} onInput={input('epic')} maxLength={12} />
        </Field>
        <fieldset class="field">
          <legend>{t('members.skills')}</legend>
          <div class="choices">
            {SKILLS.map((s) => (
              <label key={s} class="choice">
                <input
                  type="checkbox"
                  name="skills"
                  value={s}
                  checked={form.skills.includes(s)}
                  onChange={(e) =>
                    set(
                      'skills',
                      /** @type {HTMLInputElement} */ (e.currentTarget).checked
                        ? [...form.skills, s]
                        : form.skills.filter((/** @type {string} */ x) => x !== s),
                    )
                  }
                />
                {t(`skills.${s}`)}
              </label>
            ))}
          </div>
        </fieldset>
        <Field label={t('members.notes')} id="m-notes" error={err('notes')}>
          <textarea id="m-notes" name="notes" rows={2} value={form.notes} onInput={input('notes')} />
        </Field>
        <div class={errors.consent ? 'field consent invalid' : 'field consent'}>
          <label class="choice">
            <input
              type="checkbox"
              name="consent"
              checked={form.consent}
              onChange={(e) => set('consent', /** @type {HTMLInputElement} */ (e.currentTarget).checked)}
            />
            <span>{t('members.consent')}</span>
          </label>
          {errors.consent && <p class="error" role="alert">{err('consent')}</p>}
        </div>
        <button class="primary" type="submit">
          {t('common.save')}
        </button>
        <p class="hint">{t('members.savedOnPhone')}</p>
      </form>
      {params.id && !confirmDelete && (
        <button type="button" class="danger-link" onClick={() => setConfirmDelete(true)}>
          {t('members.delete')}
        </button>
      )}
      {confirmDelete && (
        <div class="notice warn">
          <p>{t('members.deleteConfirm')}</p>
          <button type="button" class="danger" onClick={remove}>
            {t('members.deleteYes')}
          </button>
          <button type="button" class="secondary" onClick={() => setConfirmDelete(false)}>
            {t('common.cancel')}
          </button>
        </div>
      )}
    </Page>
  );
}
