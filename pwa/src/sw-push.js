/** Web Push in the service worker: meeting alerts shown as notifications, and RSVP answers
 * from their buttons written to the outbox (so they go out later when there is no network). */

import { createApi } from './api/client.js';
import { META, OUTBOX, RECORDS, openLocalDb } from './db/index.js';
import { createSyncEngine } from './sync/engine.js';
import { enqueue, newId } from './sync/outbox.js';

const ICON = '/icons/icon-192.png';
const RSVP_ACTION = /^rsvp-(yes|no|maybe)$/;

/**
 * What the server sends (server/push/notification.py), already in the person's language.
 * @typedef {object} MeetingAlert
 * @property {string} type  meeting_created, meeting_changed, meeting_cancelled, meeting_reminder
 * @property {string} kind
 * @property {number} event  the server's id for this alert: a repeat is shown once
 * @property {string} meeting_id
 * @property {string} lang
 * @property {string} title
 * @property {string} body
 * @property {string} url  /meetings/<id>
 * @property {string} tag
 * @property {number} starts_at
 * @property {{action: string, title: string}[]} actions
 */

/** @param {any} data  PushMessageData, or null for a push without a body */
function parseAlert(data) {
  if (!data) return null;
  try {
    const alert = data.json();
    return alert && typeof alert.title === 'string' && typeof alert.meeting_id === 'string'
      ? /** @type {MeetingAlert} */ (alert)
      : null;
  } catch {
    return null;
  }
}

/**
 * Show the alert, once per server event, replacing an older one about the same meeting.
 * @param {ServiceWorkerGlobalScope} worker
 * @param {MeetingAlert} alert
 */
async function showAlert(worker, alert) {
  const shown = await worker.registration.getNotifications({ tag: alert.tag });
  if (shown.some((n) => n.data && n.data.event === alert.event)) return;
  const limit = /** @type {any} */ (Notification).maxActions ?? alert.actions.length;
  await worker.registration.showNotification(alert.title, {
    body: alert.body,
    tag: alert.tag,
    lang: alert.lang,
    dir: 'ltr',
    icon: ICON,
    badge: ICON,
    timestamp: Date.now(),
    // A change to a meeting already on screen must buzz again.
    ...(/** @type {any} */ ({ renotify: true, actions: alert.actions.slice(0, limit) })),
    data: { event: alert.event, meeting_id: alert.meeting_id, url: alert.url, actions: alert.actions },
  });
}

/**
 * The id of this person's RSVP to the meeting, if the phone already has one (pulled, or
 * still in the outbox), so a second answer changes it rather than adding another.
 * @param {import('./db/index.js').LocalDb} db
 * @param {string} meetingId
 * @param {number} userId
 */
async function rsvpId(db, meetingId, userId) {
  const pulled = await db.getAllFromIndex(RECORDS, 'entity', 'rsvp');
  const mine = pulled.find((r) => r.record && r.record.meeting_id === meetingId && r.record.user_id === userId);
  if (mine) return mine.id;
  const waiting = await db.getAll(OUTBOX);
  const queued = waiting.find((m) => m.entity === 'rsvp' && m.fields && m.fields.meeting_id === meetingId);
  return queued ? queued.id : newId();
}

/**
 * Record the answer in the outbox (it survives being offline), show that it was taken,
 * and try to send it now; Background Sync or the next app open sends it otherwise.
 * @param {ServiceWorkerGlobalScope} worker
 * @param {Notification} notification
 * @param {'yes'|'no'|'maybe'} answer
 * @returns {Promise<boolean>} false when nobody is logged in on this phone
 */
async function answerFromNotification(worker, notification, answer) {
  const data = notification.data || {};
  const db = await openLocalDb();
  const session = await db.get(META, 'session');
  if (!session || !session.user) return false;
  const id = await rsvpId(db, data.meeting_id, session.user.id);
  await enqueue(db, { entity: 'rsvp', id, fields: { meeting_id: data.meeting_id, answer } });
  const chosen = (data.actions || []).find((/** @type {any} */ a) => a.action === `rsvp-${answer}`);
  await worker.registration.showNotification(notification.title, {
    body: `✓ ${chosen ? chosen.title : answer}`,
    tag: notification.tag,
    icon: ICON,
    badge: ICON,
    silent: true,
    data: { ...data, answered: answer },
  });
  const sync = /** @type {any} */ (worker.registration).sync;
  if (sync) await sync.register('outbox').catch(() => {});
  await createSyncEngine({ db, api: createApi({ db }) })
    .sync()
    .catch(() => {});
  return true;
}

/**
 * Open the meeting in the app: an open window navigates there, else a new one opens.
 * @param {ServiceWorkerGlobalScope} worker
 * @param {string} url
 */
async function openMeeting(worker, url) {
  const target = new URL(url || '/', worker.location.origin).href;
  const windows = await worker.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const open = windows.find((w) => new URL(w.url).origin === worker.location.origin);
  if (open) {
    // Focus needs the click's user activation, which can run out: navigate regardless.
    const focused = await open.focus().catch(() => open);
    await focused.navigate(target).catch(() => null);
    return;
  }
  await worker.clients.openWindow(target);
}

/**
 * @param {ServiceWorkerGlobalScope} worker
 * @param {Notification} notification
 * @param {string} action
 */
async function onNotificationClick(worker, notification, action) {
  notification.close();
  const data = notification.data || {};
  const match = RSVP_ACTION.exec(action || '');
  if (match && !data.answered) {
    const answer = /** @type {'yes'|'no'|'maybe'} */ (match[1]);
    if (await answerFromNotification(worker, notification, answer)) return;
  }
  await openMeeting(worker, data.url);
}

/** @param {ServiceWorkerGlobalScope} worker */
export function registerPushHandlers(worker) {
  worker.addEventListener('push', (/** @type {any} */ event) => {
    const alert = parseAlert(event.data);
    if (!alert) return;
    event.waitUntil(
      showAlert(worker, alert).then(() =>
        // We are online right now: bring the meeting itself onto the phone for offline use.
        openLocalDb()
          .then((db) => createSyncEngine({ db, api: createApi({ db }) }).sync())
          .catch(() => {}),
      ),
    );
  });

  worker.addEventListener('notificationclick', (/** @type {any} */ event) => {
    // Start the work before waitUntil, which keeps the worker alive until it is done.
    const work = onNotificationClick(worker, event.notification, event.action);
    event.waitUntil(work);
  });
}
