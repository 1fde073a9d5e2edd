/** Checks on the phone that mirror the server's (sync/fields.py), so a saved entry is one it accepts. */

export const GENDERS = ['male', 'female', 'other'];
export const SKILLS = ['speaker', 'social_media', 'writing', 'organiser', 'booth_management', 'other'];
export const GRIEVANCE_CATEGORIES = [
  'road',
  'water',
  'electricity',
  'ration',
  'pension',
  'mgnrega',
  'health',
  'education',
  'land',
  'official_conduct',
  'party_conduct',
  'other',
];
export const SQUAD_SIZE = 20;

/** NFC-normalised and trimmed, as the server stores text. */
export function clean(/** @type {string} */ text) {
  return (text || '').normalize('NFC').trim();
}

/**
 * A required free text of at most `max` characters, cleaned as the server stores it:
 * `{ value }` when it may be sent, else `{ error }` (a catalogue key).
 * @param {string} text
 * @param {number} max
 * @param {string} [requiredKey]
 * @returns {{ value: string, error?: undefined } | { error: string, value?: undefined }}
 */
export function requiredText(text, max, requiredKey = 'validation.required') {
  const value = clean(text);
  if (!value) return { error: requiredKey };
  if (value.length > max) return { error: 'validation.tooLong' };
  return { value };
}

/**
 * A 10-digit Indian mobile, with +91 or a leading 0 and spaces or dashes stripped; null if not one.
 * @param {string} value
 */
function normalisePhone(value) {
  let digits = (value || '').replace(/[\s-]/g, '');
  if (digits.startsWith('+91')) digits = digits.slice(3);
  else if (digits.length === 11 && digits.startsWith('0')) digits = digits.slice(1);
  return /^[6-9]\d{9}$/.test(digits) ? digits : null;
}

/** Three letters and seven digits, upper-cased; null if not a voter ID. */
function normaliseEpic(/** @type {string} */ value) {
  const epic = (value || '').replace(/\s/g, '').toUpperCase();
  return /^[A-Z]{3}\d{7}$/.test(epic) ? epic : null;
}

/**
 * @typedef {Record<string, string>} FieldErrors  field -> catalogue key under "validation."
 */

/**
 * @param {Record<string, any>} form  raw form values
 * @param {boolean} creating
 * @returns {{values: Record<string, any>, errors: FieldErrors}}
 */
export function checkMember(form, creating) {
  /** @type {FieldErrors} */
  const errors = {};
  /** @type {Record<string, any>} */
  const values = {};
  const name = clean(form.name);
  if (!name) errors.name = 'required';
  else if (name.length > 120) errors.name = 'tooLong';
  values.name = name;

  const ageText = String(form.age ?? '').trim();
  const age = Number(ageText);
  if (!ageText) errors.age = 'required';
  else if (!/^\d+$/.test(ageText) || age < 18 || age > 35) errors.age = 'age';
  values.age = age;

  if (!GENDERS.includes(form.gender)) errors.gender = 'required';
  values.gender = form.gender;

  const phoneText = clean(form.phone);
  if (phoneText) {
    const phone = normalisePhone(phoneText);
    if (!phone) errors.phone = 'phone';
    values.phone = phone;
  } else values.phone = null;

  const epicText = clean(form.epic);
  if (epicText) {
    const epic = normaliseEpic(epicText);
    if (!epic) errors.epic = 'epic';
    values.epic = epic;
  } else values.epic = null;

  values.skills = (form.skills || []).filter((/** @type {string} */ s) => SKILLS.includes(s));

  values.consent = form.consent === true;
  if (creating && !values.consent) errors.consent = 'consent';

  const notes = clean(form.notes);
  if (notes.length > 1000) errors.notes = 'tooLong';
  values.notes = notes;
  return { values, errors };
}

/**
 * @param {Record<string, any>} form
 * @returns {{values: Record<string, any>, errors: FieldErrors}}
 */
export function checkGrievance(form) {
  /** @type {FieldErrors} */
  const errors = {};
  /** @type {Record<string, any>} */
  const values = {};
  if (!GRIEVANCE_CATEGORIES.includes(form.category)) errors.category = 'required';
  values.category = form.category;
  const description = clean(form.description);
  if (!description) errors.description = 'required';
  else if (description.length > 5000) errors.description = 'tooLong';
  values.description = description;
  const complainantName = clean(form.complainant_name);
  if (complainantName.length > 120) errors.complainant_name = 'tooLong';
  values.complainant_name = complainantName;
  const phoneText = clean(form.complainant_phone);
  if (phoneText) {
    const phone = normalisePhone(phoneText);
    if (!phone) errors.complainant_phone = 'phone';
    values.complainant_phone = phone;
  } else values.complainant_phone = null;
  const against = clean(form.against);
  if (against.length > 200) errors.against = 'tooLong';
  values.against = against;
  return { values, errors };
}

/**
 * Only the fields that differ from what the phone shows: a mutation carries what it changes.
 * @param {Record<string, any>} values
 * @param {Record<string, any>|null} shown
 */
export function changedFields(values, shown) {
  if (!shown) return { ...values };
  /** @type {Record<string, any>} */
  const changed = {};
  for (const [field, value] of Object.entries(values)) {
    if (JSON.stringify(value) !== JSON.stringify(shown[field] ?? (Array.isArray(value) ? [] : null))) {
      changed[field] = value;
    }
  }
  return changed;
}
