"""A meeting alert through the whole chain: the sync engine queues it, `push-worker` sends it
to the stand-in push service (which decrypts it as a browser would), the decrypted payload is
handed to the app's real service worker in Chromium (`ServiceWorker.deliverPushMessage`),
which shows the notification; its RSVP button records the answer offline, and the answer
reaches the server when the phone is back online."""

import json
import os
import subprocess
import sys
import time
import uuid

from cryptography.hazmat.primitives.asymmetric import ec
from playwright.sync_api import expect

from server.push.vapid import b64url, public_key_b64
from tests.e2e.conftest import api, api_login
from tests.e2e.harness import BLOCK_PRESIDENT, ROOT, VOLUNTEER
from tests.server.push.standin import PushServiceStandin

NOTIFICATIONS = """async () => (await (await navigator.serviceWorker.ready).getNotifications())
  .map((n) => ({title: n.title, body: n.body, tag: n.tag, data: n.data,
                actions: n.actions.map((a) => a.action)}))"""
CLICK = """async (action) => {
  const [notification] = await self.registration.getNotifications();
  // The browser's own click cannot be driven headless; the event the worker gets is the same.
  self.dispatchEvent(new NotificationEvent('notificationclick', {notification, action}));
}"""
OUTBOX = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open('booth-connect');
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const request = open.result.transaction('outbox').objectStore('outbox').getAll();
    request.onsuccess = () => { resolve(request.result); open.result.close(); };
  };
})"""


def wait_for(page, fn, timeout=15):
    """Poll `fn` until truthy; waiting through Playwright lets its events arrive meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        page.wait_for_timeout(200)
    raise AssertionError("timed out")


def create_meeting(server, starts_at):
    token, device, user = api_login(server, BLOCK_PRESIDENT)
    meeting_id = str(uuid.uuid4())
    now = int(time.time() * 1000)
    answer = api(
        server,
        "POST",
        "/api/sync/push",
        {
            "device_id": device,
            "schema_version": 1,
            "client_time": now,
            "mutations": [
                {
                    "seq": 1,
                    "entity": "meeting",
                    "op": "upsert",
                    "id": meeting_id,
                    "base_version": None,
                    "hlc": f"{now:013d}-0000-{device}",
                    "fields": {
                        "title": "बूथ समिति की बैठक",
                        "agenda": "नए युवा साथियों की सूची",
                        "starts_at": starts_at,
                        "place": "काँके प्रखंड कार्यालय",
                        "unit_id": user["unit"]["id"],
                        "audience_roles": ["volunteer"],
                    },
                }
            ],
        },
        token,
    )
    assert answer["results"][0]["status"] == "applied", answer
    return meeting_id


def run_push_worker(server, vapid_private):
    env = {
        **os.environ,
        "DATABASE_URL": server.database_url,
        "SECRET_KEY": "e2e-secret-key-long-enough-for-hs256-signing",
        "VAPID_PRIVATE_KEY": vapid_private,
        "PUSH_ALLOWED_HOSTS": "127.0.0.1",
    }
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "server", "push-worker", "--once"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def volunteer_phone(phones, server):
    """A volunteer logged in on a phone that may show notifications; with their user and device."""
    server.execute("DELETE FROM push_subscriptions")
    phone = phones()
    phone.context.grant_permissions(["notifications"], origin=server.url)
    phone.login(VOLUNTEER)
    [(user_id, device_id)] = server.query(
        "SELECT u.id, d.id FROM devices d JOIN users u ON u.id = d.user_id "
        "WHERE u.phone = %s ORDER BY d.created_at DESC LIMIT 1",
        VOLUNTEER,
    )
    return phone, user_id, device_id


def send_meeting_alert(server, user_id, device_id):
    """Create a meeting and run `push-worker` once against the stand-in push service, which
    holds the phone's subscription; return the meeting id and the decrypted message."""
    vapid = ec.generate_private_key(ec.SECP256R1())
    vapid_private = b64url(vapid.private_numbers().private_value.to_bytes(32, "big"))
    with PushServiceStandin(public_key_b64(vapid)) as standin:
        # The browser's subscription (headless Chromium cannot reach a real push service).
        keys = standin.add("phone")
        sub = keys.subscription_json(standin.endpoint("phone"))
        server.execute(
            "INSERT INTO push_subscriptions (device_id, user_id, endpoint, p256dh, auth, "
            "created_at, updated_at) VALUES (%s, %s, %s, %s, %s, 0, 0)",
            device_id,
            user_id,
            sub["endpoint"],
            sub["keys"]["p256dh"],
            sub["keys"]["auth"],
        )
        meeting_id = create_meeting(server, int(time.time() * 1000) + 2 * 24 * 3600 * 1000)
        assert run_push_worker(server, vapid_private)["sent"] == 1
        [message] = standin.received
    return meeting_id, message


def push_delivery(phone, server):
    """A function handing a payload to the app's service worker, as the browser would."""
    cdp = phone.context.new_cdp_session(phone.page)
    registrations = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(event["registrations"]),
    )
    cdp.send("ServiceWorker.enable")
    registration = wait_for(
        phone.page,
        lambda: next((r for r in registrations if r["scopeURL"] == server.url + "/"), None),
    )

    def deliver(payload):
        cdp.send(
            "ServiceWorker.deliverPushMessage",
            {
                "origin": server.url,
                "registrationId": registration["registrationId"],
                "data": json.dumps(payload, ensure_ascii=False),
            },
        )

    return deliver


def check_notification(phone, meeting_id):
    """The one notification shown: the meeting's title, place, tag, link and RSVP buttons."""
    [shown] = wait_for(phone.page, lambda: phone.page.evaluate(NOTIFICATIONS))
    assert shown["title"] == "नई बैठक: बूथ समिति की बैठक"
    assert "काँके प्रखंड कार्यालय" in shown["body"]
    assert shown["tag"] == f"meeting-{meeting_id}"
    assert shown["data"]["url"] == f"/meetings/{meeting_id}"
    max_actions = phone.page.evaluate("Notification.maxActions")
    assert shown["actions"] == ["rsvp-yes", "rsvp-no", "rsvp-maybe"][:max_actions]
    assert shown["actions"][0] == "rsvp-yes"


def answer_yes_offline(phone, server, meeting_id):
    """Tap "आऊँगा" with no network: the answer waits in the outbox, and the notification
    says it was taken; return the service worker."""
    phone.offline()
    [service_worker] = phone.context.service_workers
    service_worker.evaluate(CLICK, "rsvp-yes")
    waiting = wait_for(
        phone.page, lambda: [m for m in phone.page.evaluate(OUTBOX) if m["entity"] == "rsvp"]
    )
    assert waiting[0]["fields"] == {"meeting_id": meeting_id, "answer": "yes"}
    [confirmation] = wait_for(
        phone.page,
        lambda: [n for n in phone.page.evaluate(NOTIFICATIONS) if n["body"].startswith("✓")],
    )
    assert confirmation["body"] == "✓ आऊँगा"
    assert confirmation["actions"] == []
    assert server.query("SELECT answer FROM rsvps") == []
    return service_worker


def test_alert_shows_in_the_service_worker_and_rsvp_button_answers_offline(phones, clean_server):
    server = clean_server
    phone, user_id, device_id = volunteer_phone(phones, server)
    meeting_id, message = send_meeting_alert(server, user_id, device_id)
    assert message.payload["title"] == "नई बैठक: बूथ समिति की बैठक"

    deliver = push_delivery(phone, server)
    deliver(message.payload)
    check_notification(phone, meeting_id)

    # The same alert delivered twice (a retry after a lost answer) shows once.
    deliver(message.payload)
    phone.page.wait_for_timeout(500)
    assert len(phone.page.evaluate(NOTIFICATIONS)) == 1

    service_worker = answer_yes_offline(phone, server, meeting_id)
    phone.online()
    phone.wait_synced()
    assert server.query("SELECT user_id, answer FROM rsvps WHERE meeting_id = %s", meeting_id) == [
        (user_id, "yes")
    ]

    # Tapping the notification itself opens the meeting in the app.
    service_worker.evaluate(CLICK, "")
    expect(phone.page).to_have_url(f"{server.url}/meetings/{meeting_id}", timeout=15000)
