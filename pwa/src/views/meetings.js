/** Meetings: the list meant for this person, one meeting with its RSVP buttons, and the
 * offer to turn on meeting alerts (Web Push), made after login with a reason, never on
 * first load. Texts come from the catalogues' `meetings` section. */

import { h } from 'preact';
import { useState } from 'preact/hooks';

import { ApiError } from '../api/client.js';
import { useAlertsDeclined, useRecord, useRecords } from '../data/hooks.js';
import { formatTime, t } from '../i18n/index.js';
import { getApi, notNowToAlerts, saveChange } from '../runtime.js';
import { newId } from '../sync/outbox.js';
import { Empty, Loading, Page, SyncBadge } from './ui.jsx';

const RSVP_ANSWERS = /** @type {const} */ (['yes', 'no', 'maybe']);
// Asked again a week after "not now": a person may change their mind, but not be nagged.
const ASK_AGAIN_MS = 7 * 24 * 3600 * 1000;

/** @param {string} text */
function base64UrlToBytes(text) {
  const padded = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

/** Whether this browser can show alerts while the app is closed. */
function alertsSupported() {
  return (
    typeof window !== 'undefined' &&
    'serviceWorker' in navigator &&
    'PushManager' in window &&
    'Notification' in window
  );
}

/**
 * Subscribe this phone (after `navigator.serviceWorker.ready`) and give the server the
 * subscription for this device; an existing one is sent again, which keeps the server's
 * copy current after the browser renews it.
 * @returns {Promise<boolean>} whether the phone is subscribed on the server
 */
async function saveSubscription() {
  if (!alertsSupported() || Notification.permission !== 'granted') return false;
  const api = getApi();
  const registration = await navigator.serviceWorker.ready;
  const subscribe = async () => {
    const { public_key: key } = await api.get('/api/push/key');
    return registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: base64UrlToBytes(key),
    });
  };
  let subscription = (await registration.pushManager.getSubscription()) || (await subscribe());
  try {
    await api.post('/api/push/subscriptions', subscription.toJSON());
  } catch (err) {
    // The browser's address is still held by another (not revoked) login on this phone:
    // the server refuses to move it, so this login takes a new address of its own.
    if (!(err instanceof ApiError) || err.code !== 'endpoint_taken') throw err;
    await subscription.unsubscribe();
    subscription = await subscribe();
    await api.post('/api/push/subscriptions', subscription.toJSON());
  }
  return true;
}

/** Stop alerts on this phone (before logging out, or from settings). */
export async function removeSubscription() {
  if (!alertsSupported()) return;
  const registration = await navigator.serviceWorker.ready;
  const subscription = await registration.pushManager.getSubscription();
  const api = getApi();
  const session = await api.session();
  if (session && session.access_token) {
    // Best effort: a server that still has it drops it at the next 404/410 anyway.
    await api.send('DELETE', '/api/push/subscriptions', { token: session.access_token }).catch(() => {});
  }
  if (subscription) await subscription.unsubscribe();
}

/**
 * The offer to turn on alerts: shown to a logged-in person whose browser has not been
 * asked yet, with the reason first; the browser's own prompt comes only on "turn on".
 */
export function AlertsOffer() {
  const declined = useAlertsDeclined();
  const [state, setState] = useState(/** @type {'idle'|'asking'|'done'|'failed'} */ ('idle'));
  if (!alertsSupported() || Notification.permission !== 'default' || state === 'done') return null;
  if (!declined || (typeof declined.at === 'number' && Date.now() - declined.at < ASK_AGAIN_MS)) return null;

  async function turnOn() {
    setState('asking');
    try {
      const permission = await Notification.requestPermission();
      if (permission !== 'granted') {
        await notNowToAlerts();
        setState('done');
        return;
      }
      setState((await saveSubscription()) ? 'done' : 'failed');
    } catch {
      setState('failed');
    }
  }

  async function notNow() {
    await notNowToAlerts();
    setState('done');
  }

  return h(
    'section',
    { class: 'card', 'data-testid': 'alerts-offer', role: 'region', 'aria-label': t('meetings.alerts.title') },
    h('h2', null, t('meetings.alerts.title')),
    h('p', null, t('meetings.alerts.why')),
    state === 'failed' && h('p', { class: 'error', role: 'alert' }, t('meetings.alerts.failed')),
    h(
      'div',
      { class: 'actions' },
      h(
        'button',
        { type: 'button', class: 'button primary', onClick: turnOn, disabled: state === 'asking' },
        t('meetings.alerts.turnOn'),
      ),
      h('button', { type: 'button', class: 'button', onClick: notNow }, t('meetings.alerts.notNow')),
    ),
  );
}

/**
 * This person's answer to a meeting (pulled or waiting), and its record id.
 * @param {any[]} rsvps  shown rsvp records
 * @param {string} meetingId
 * @param {number} userId
 */
function myRsvp(rsvps, meetingId, userId) {
  return rsvps.find(
    ({ record }) => record.meeting_id === meetingId && (record.user_id === userId || record.user_id == null),
  );
}

/** @param {{record: any}} meeting */
function isUpcoming({ record }) {
  return record.status !== 'cancelled' && record.starts_at >= Date.now() - 3 * 3600 * 1000;
}

/** The answer buttons; the answer is saved on the phone first and sent when possible. */
function RsvpButtons({ meetingId, current, rsvpId }) {
  async function answer(/** @type {string} */ value) {
    await saveChange({ entity: 'rsvp', id: rsvpId || newId(), fields: { meeting_id: meetingId, answer: value } });
  }
  return h(
    'div',
    { class: 'actions', role: 'group', 'aria-label': t('meetings.rsvp') },
    RSVP_ANSWERS.map((value) =>
      h(
        'button',
        {
          key: value,
          type: 'button',
          class: `button small${current === value ? ' primary' : ''}`,
          'aria-pressed': current === value ? 'true' : 'false',
          'data-answer': value,
          onClick: () => answer(value),
        },
        t(`meetings.answers.${value}`),
      ),
    ),
  );
}

export function Meetings({ session }) {
  const meetings = useRecords('meeting');
  const rsvps = useRecords('rsvp');
  if (!meetings || !rsvps) return h(Loading, null);
  const data = { meetings, rsvps };
  const userId = session && session.user ? session.user.id : null;
  const upcoming = data.meetings.filter(isUpcoming).sort((a, b) => a.record.starts_at - b.record.starts_at);
  return h(
    Page,
    { title: t('meetings.title') },
    h(AlertsOffer, null),
    !upcoming.length && h(Empty, { text: t('meetings.empty') }),
    h(
      'ul',
      { class: 'list' },
      upcoming.map(({ record, state }) => {
        const mine = myRsvp(data.rsvps, record.id, userId);
        return h(
          'li',
          { key: record.id },
          h(
            'a',
            { href: `/meetings/${record.id}`, class: 'row', 'data-testid': 'meeting-row' },
            h(
              'div',
              { class: 'row-main' },
              h('strong', null, record.title),
              h('span', { class: 'sub' }, formatTime(record.starts_at)),
              record.place && h('span', { class: 'sub clamp' }, record.place),
              mine && h('span', { class: 'sub' }, t(`meetings.answers.${mine.record.answer}`)),
            ),
            h('div', { class: 'row-badges' }, h(SyncBadge, { state })),
          ),
        );
      }),
    ),
  );
}

export function MeetingDetail({ params, session }) {
  const meeting = useRecord('meeting', params.id);
  const rsvps = useRecords('rsvp');
  if (meeting === undefined || !rsvps) return h(Loading, null);
  const data = { meeting, rsvps };
  if (!data.meeting) {
    // Opened from an alert before the meeting reached this phone: it comes with the next sync.
    return h(Page, { title: t('meetings.title'), back: '/meetings' }, h(Empty, { text: t('meetings.notYet') }));
  }
  const { record, state } = data.meeting;
  const userId = session && session.user ? session.user.id : null;
  const mine = myRsvp(data.rsvps, record.id, userId);
  const cancelled = record.status === 'cancelled';
  return h(
    Page,
    { title: record.title, back: '/meetings' },
    h(
      'article',
      { class: 'card', 'data-testid': 'meeting' },
      cancelled && h('p', { class: 'error', role: 'status' }, t('meetings.cancelled')),
      h('p', null, h('strong', null, formatTime(record.starts_at))),
      record.place && h('p', null, record.place),
      record.online_url &&
        h('p', null, h('a', { href: record.online_url, rel: 'noopener noreferrer', target: '_blank' }, t('meetings.join'))),
      record.agenda && h('p', { class: 'pre' }, record.agenda),
      h(SyncBadge, { state }),
    ),
    !cancelled &&
      h(
        'section',
        { class: 'card' },
        h('h2', null, t('meetings.rsvp')),
        h(RsvpButtons, {
          meetingId: record.id,
          current: mine ? mine.record.answer : null,
          rsvpId: mine ? mine.record.id : null,
        }),
        mine && h(SyncBadge, { state: mine.state }),
      ),
  );
}
