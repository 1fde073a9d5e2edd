"""Delivering meeting alerts through the stand-in push service: content, headers,
retries, removal of dead subscriptions, size, and no double sends."""

import socket
import threading
import time
import uuid

from sqlalchemy import func, select

from server import create_app
from server.accounts.models import Device
from server.extensions import db
from server.push.alerts import meeting_changed
from server.push.models import PushDelivery, PushSubscription
from server.push.worker import PushWorker
from server.records import now_ms
from tests.server.push.fixtures import HOUR_MS, make_meeting, subscribe
from tests.server.syncing.phone import Phone


def _statuses():
    return dict(
        db.session.execute(
            select(PushDelivery.status, func.count()).group_by(PushDelivery.status)
        ).all()
    )


def test_block_presidents_meeting_reaches_every_subscribed_phone_in_hindi(
    app, client, make, standin, push_config
):
    g = make.geo()
    president = make.user("block_president", g.k1)
    ram = make.user("volunteer", g.b1)
    sita = make.user("volunteer", g.b2)
    sita.language = "en"
    outsider = make.user("volunteer", g.b4)
    db.session.commit()
    ram_phone = subscribe(client, make, standin, ram)
    ram_tablet = subscribe(client, make, standin, ram)
    sita_phone = subscribe(client, make, standin, sita)
    subscribe(client, make, standin, outsider)
    subscribe(client, make, standin, president)

    # The president creates the meeting offline; the sync engine applies it on push.
    starts_at = now_ms() + 3 * 24 * HOUR_MS
    meeting_id = str(uuid.uuid4())
    phone = Phone(client, make, president)
    result = phone.send(
        "meeting",
        meeting_id,
        {
            "title": "बूथ समिति की बैठक",
            "agenda": "नए युवा साथियों की सूची",
            "starts_at": starts_at,
            "place": "काँके प्रखंड कार्यालय",
            "unit_id": g.k1.id,
            "audience_roles": ["volunteer"],
        },
    )
    assert result["status"] == "applied", result

    worker = PushWorker(app)
    try:
        totals = worker.run_once()
    finally:
        worker.sender.close()
    assert totals["sent"] == 3
    assert standin.rejected == []
    by_phone = {m.name: m for m in standin.received}
    assert set(by_phone) == {ram_phone, ram_tablet, sita_phone}

    hindi = by_phone[ram_phone].payload
    assert hindi["type"] == "meeting_created"
    assert hindi["title"] == "नई बैठक: बूथ समिति की बैठक"
    assert "काँके प्रखंड कार्यालय" in hindi["body"]
    assert "नए युवा साथियों की सूची" in hindi["body"]
    assert hindi["url"] == f"/meetings/{meeting_id}"
    assert [a["title"] for a in hindi["actions"]] == ["आऊँगा", "नहीं आऊँगा", "शायद"]
    assert by_phone[sita_phone].payload["title"] == "New meeting: बूथ समिति की बैठक"

    message = by_phone[ram_phone]
    assert message.urgency == "normal"
    assert message.topic == meeting_id.replace("-", "")
    expected_ttl = (starts_at - now_ms()) // 1000
    assert expected_ttl - 60 <= message.ttl <= expected_ttl + 1
    assert message.claims["aud"] == standin.origin
    assert message.claims["sub"] == app.config["VAPID_SUBJECT"]


def test_cancel_alert_has_no_rsvp_buttons_and_the_organiser_gets_none(
    client, make, standin, worker, clock
):
    g = make.geo()
    president = make.user("block_president", g.k1)
    volunteer = make.user("volunteer", g.b1)
    name = subscribe(client, make, standin, volunteer)
    subscribe(client, make, standin, president)
    meeting = make_meeting(
        president, g.k1, clock.ms + 5 * HOUR_MS, roles=["volunteer", "block_president"]
    )
    meeting.status, meeting.version = "cancelled", 2
    meeting_changed(meeting, "cancelled", president, now=clock.ms)
    db.session.commit()
    worker.run_once()
    [message] = standin.received
    assert message.name == name
    assert message.payload["type"] == "meeting_cancelled"
    assert message.payload["title"].startswith("बैठक रद्द")
    assert message.payload["actions"] == []


def test_gone_subscription_is_removed(client, make, standin, worker, clock):
    g = make.geo()
    leader = make.user("district_president", g.d1)
    gone = subscribe(client, make, standin, make.user("volunteer", g.b1))
    kept = subscribe(client, make, standin, make.user("volunteer", g.b2))
    standin.script(gone, 410)
    meeting_changed(
        make_meeting(leader, g.d1, clock.ms + 48 * HOUR_MS), "created", leader, now=clock.ms
    )
    db.session.commit()
    totals = worker.run_once()
    assert (totals["sent"], totals["gone"]) == (1, 1)
    endpoints = db.session.scalars(select(PushSubscription.endpoint)).all()
    assert endpoints == [standin.endpoint(kept)]
    # The next alert goes only to the live one.
    meeting_changed(
        make_meeting(leader, g.d1, clock.ms + 50 * HOUR_MS), "created", leader, now=clock.ms
    )
    db.session.commit()
    worker.run_once()
    assert standin.attempts(gone) == 1
    assert [m.name for m in standin.received] == [kept, kept]


def test_endpoint_stored_before_the_address_check_is_never_posted_to(
    client, make, standin, worker, clock
):
    """An endpoint saved before the subscribe check refused forms like a backslash in the
    host is checked again before sending: never posted to, and its subscription removed."""
    g = make.geo()
    leader = make.user("district_president", g.d1)
    forged = subscribe(client, make, standin, make.user("volunteer", g.b1))
    kept = subscribe(client, make, standin, make.user("volunteer", g.b2))
    row = db.session.scalars(
        select(PushSubscription).where(PushSubscription.endpoint == standin.endpoint(forged))
    ).one()
    row.endpoint = standin.endpoint(forged).replace("://", "://attacker.example\\", 1)
    meeting_changed(
        make_meeting(leader, g.d1, clock.ms + 48 * HOUR_MS), "created", leader, now=clock.ms
    )
    db.session.commit()
    totals = worker.run_once()
    assert (totals["sent"], totals["gone"]) == (1, 1)
    assert standin.attempts(forged) == 0
    assert [m.name for m in standin.received] == [kept]
    endpoints = db.session.scalars(select(PushSubscription.endpoint)).all()
    assert endpoints == [standin.endpoint(kept)]


def test_429_waits_for_retry_after_then_delivers_once(client, make, standin, worker, clock):
    g = make.geo()
    leader = make.user("block_president", g.k1)
    name = subscribe(client, make, standin, make.user("volunteer", g.b1))
    standin.script(name, 429, retry_after="600")
    meeting_changed(
        make_meeting(leader, g.k1, clock.ms + 48 * HOUR_MS), "created", leader, now=clock.ms
    )
    db.session.commit()
    assert worker.run_once()["retry"] == 1
    clock.advance(599 * 1000)
    worker.run_once()
    assert standin.attempts(name) == 1
    clock.advance(2 * 1000)
    assert worker.run_once()["sent"] == 1
    assert standin.attempts(name) == 2
    assert len(standin.received) == 1
    worker.run_once()
    assert _statuses() == {"sent": 1}


def test_server_errors_back_off_exponentially_then_give_up(
    app, client, make, standin, worker, clock
):
    g = make.geo()
    leader = make.user("block_president", g.k1)
    name = subscribe(client, make, standin, make.user("volunteer", g.b1))
    standin.script(name, *[503] * 20)
    meeting_changed(
        make_meeting(leader, g.k1, clock.ms + 20 * 24 * HOUR_MS), "created", leader, now=clock.ms
    )
    db.session.commit()
    waits = []
    for _ in range(app.config["PUSH_MAX_ATTEMPTS"]):
        worker.run_once()
        row = db.session.scalar(select(PushDelivery))
        db.session.commit()
        if row.status != "pending":
            break
        waits.append((row.next_attempt_at - clock.ms) / 1000)
        clock.ms = row.next_attempt_at
    base = app.config["PUSH_BACKOFF_SECONDS"]
    assert len(waits) == app.config["PUSH_MAX_ATTEMPTS"] - 1
    for n, wait in enumerate(waits):
        expected = min(app.config["PUSH_BACKOFF_MAX_SECONDS"], base * 2**n)
        assert expected <= wait <= expected * 1.1
    assert _statuses() == {"failed": 1}
    assert standin.attempts(name) == app.config["PUSH_MAX_ATTEMPTS"]
    assert standin.received == []


def test_long_agenda_is_cut_to_fit_4096_bytes(client, make, standin, worker, clock):
    g = make.geo()
    leader = make.user("block_president", g.k1)
    subscribe(client, make, standin, make.user("volunteer", g.b1))
    # The longest agenda a meeting may have, in Devanagari: three bytes a character.
    agenda = ("बूथ स्तर पर युवा साथियों की भागीदारी और शिकायतों की समीक्षा। " * 90)[:5000]
    assert len(agenda.encode()) > 3 * 4096
    meeting = make_meeting(leader, g.k1, clock.ms + 48 * HOUR_MS, agenda=agenda, title="क" * 200)
    meeting_changed(meeting, "created", leader, now=clock.ms)
    db.session.commit()
    assert worker.run_once()["sent"] == 1
    assert standin.rejected == []
    [message] = standin.received
    assert 3900 < message.body_length <= 4096
    assert message.payload["body"].endswith("…")
    assert agenda[:200] in message.payload["body"]


def test_last_hour_is_urgent_and_ttl_has_a_floor(app, client, make, standin, worker, clock):
    g = make.geo()
    leader = make.user("block_president", g.k1)
    subscribe(client, make, standin, make.user("volunteer", g.b1))
    meeting = make_meeting(leader, g.k1, clock.ms + 5 * 60 * 1000)
    meeting_changed(meeting, "created", leader, now=clock.ms)
    db.session.commit()
    worker.run_once()
    [message] = standin.received
    assert message.urgency == "high"
    assert message.ttl == app.config["PUSH_TTL_FLOOR_SECONDS"]


def test_revoked_device_and_inactive_person_get_nothing(client, make, standin, worker, clock):
    g = make.geo()
    leader = make.user("block_president", g.k1)
    live = subscribe(client, make, standin, make.user("volunteer", g.b1))
    lost = make.user("volunteer", g.b1)
    subscribe(client, make, standin, lost)
    device = db.session.scalar(select(Device).where(Device.user_id == lost.id))
    device.revoked_at = clock.ms
    gone = make.user("volunteer", g.b2)
    subscribe(client, make, standin, gone)
    gone.active = False
    db.session.commit()
    meeting_changed(
        make_meeting(leader, g.k1, clock.ms + 48 * HOUR_MS), "created", leader, now=clock.ms
    )
    db.session.commit()
    worker.run_once()
    assert [m.name for m in standin.received] == [live]


def test_resubscribed_device_gets_its_queued_alert_at_the_new_endpoint(
    client, make, standin, worker, clock
):
    g = make.geo()
    leader = make.user("block_president", g.k1)
    volunteer = make.user("volunteer", g.b1)
    device = make.device(volunteer)
    headers = make.headers(volunteer, device)
    client.post("/api/push/subscriptions", json=standin.subscription("old"), headers=headers)
    meeting_changed(
        make_meeting(leader, g.k1, clock.ms + 48 * HOUR_MS), "created", leader, now=clock.ms
    )
    db.session.commit()
    client.post("/api/push/subscriptions", json=standin.subscription("new"), headers=headers)
    worker.run_once()
    assert [m.name for m in standin.received] == ["new"]
    assert standin.attempts("old") == 0


def test_alert_is_queued_only_if_the_meeting_write_commits(client, make, standin, clock):
    g = make.geo()
    leader = make.user("block_president", g.k1)
    subscribe(client, make, standin, make.user("volunteer", g.b1))
    meeting_changed(
        make_meeting(leader, g.k1, clock.ms + 48 * HOUR_MS), "created", leader, now=clock.ms
    )
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(PushDelivery)) == 0


def test_crashed_worker_rows_are_sent_after_the_lease(app, client, make, standin, worker, clock):
    g = make.geo()
    leader = make.user("block_president", g.k1)
    subscribe(client, make, standin, make.user("volunteer", g.b1))
    meeting_changed(
        make_meeting(leader, g.k1, clock.ms + 48 * HOUR_MS), "created", leader, now=clock.ms
    )
    db.session.commit()
    # A worker claims the row and dies before sending.
    with app.app_context():
        _token, ids = worker.claim(clock.ms)
    assert len(ids) == 1
    worker.run_once()
    assert standin.received == []
    clock.advance(worker.lease_ms + 1)
    assert worker.run_once()["sent"] == 1
    assert len(standin.received) == 1


def test_two_workers_never_send_one_alert_twice(app, client, make, standin, clock, monkeypatch):
    """Real threads, each with its own database connection, racing over 240 deliveries."""
    g = make.geo()
    leader = make.user("district_president", g.d1)
    volunteers = [make.user("volunteer", booth) for booth in (g.b1, g.b2, g.b3) for _ in range(8)]
    names = [subscribe(client, make, standin, v, f"p{i}") for i, v in enumerate(volunteers)]
    for hours in range(30, 40):
        meeting = make_meeting(leader, g.d1, clock.ms + hours * HOUR_MS)
        meeting_changed(meeting, "created", leader, now=clock.ms)
    db.session.commit()
    db.session.remove()
    monkeypatch.setitem(app.config, "PUSH_BATCH_SIZE", 7)
    workers = [PushWorker(app, clock=clock) for _ in range(2)]
    start = threading.Barrier(2)
    counts = [None, None]

    def run(i):
        start.wait()
        counts[i] = workers[i].run_once()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for w in workers:
        w.sender.close()
    assert all(c is not None for c in counts), "a worker crashed"
    # Both took part, and between them each (phone, alert) went out exactly once.
    assert counts[0]["sent"] > 0 and counts[1]["sent"] > 0
    assert counts[0]["sent"] + counts[1]["sent"] == 240
    received = [(m.name, m.payload["event"]) for m in standin.received]
    assert len(received) == 240 == len(set(received))
    assert {name for name, _ in received} == set(names)
    assert _statuses() == {"sent": 240}
    assert standin.rejected == []


def test_app_sends_from_its_own_thread_when_asked(app, client, make, standin, clock):
    """`make run`: with PUSH_INPROCESS the app's own thread delivers, woken by the commit."""
    inprocess = create_app(
        {
            **{k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY")},
            **{k: app.config[k] for k in ("VAPID_PRIVATE_KEY", "PUSH_ALLOWED_HOSTS")},
            "TESTING": True,
            "PUSH_INPROCESS": True,
            "PUSH_POLL_SECONDS": 30,
        }
    )
    sender = inprocess.extensions["push_sender"]
    try:
        g = make.geo()
        leader = make.user("block_president", g.k1)
        name = subscribe(client, make, standin, make.user("volunteer", g.b1))
        meeting = make_meeting(leader, g.k1, now_ms() + 48 * HOUR_MS)
        meeting_changed(meeting, "created", leader)
        db.session.commit()
        deadline = time.monotonic() + 20
        while not standin.received and time.monotonic() < deadline:
            time.sleep(0.05)
        # Well before the 30-second poll: the commit woke the thread.
        assert [m.name for m in standin.received] == [name]
    finally:
        sender.stop()
        with inprocess.app_context():
            db.engine.dispose()
    assert not sender.thread.is_alive()


def test_unreachable_push_service_is_retried_later(client, make, standin, worker, clock):
    g = make.geo()
    leader = make.user("block_president", g.k1)
    volunteer = make.user("volunteer", g.b1)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    body = standin.subscription("x")
    body["endpoint"] = f"http://127.0.0.1:{closed_port}/push/x"
    response = client.post("/api/push/subscriptions", json=body, headers=make.headers(volunteer))
    assert response.status_code == 201
    meeting_changed(
        make_meeting(leader, g.k1, clock.ms + 48 * HOUR_MS), "created", leader, now=clock.ms
    )
    db.session.commit()
    assert worker.run_once()["retry"] == 1
    row = db.session.scalar(select(PushDelivery))
    assert (row.status, row.attempts, row.last_status) == ("pending", 1, None)
    assert row.last_error and row.next_attempt_at > clock.ms


def test_old_finished_rows_are_pruned_and_pending_ones_kept(
    app, client, make, standin, worker, clock
):
    g = make.geo()
    leader = make.user("block_president", g.k1)
    subscribe(client, make, standin, make.user("volunteer", g.b1))
    subscribe(client, make, standin, make.user("volunteer", g.b2))
    meeting = make_meeting(leader, g.k1, clock.ms + 40 * 24 * HOUR_MS)
    meeting_changed(meeting, "created", leader, now=clock.ms)
    db.session.commit()
    first, second = db.session.scalars(select(PushDelivery).order_by(PushDelivery.id)).all()
    first.status = "sent"
    db.session.commit()
    keep_ms = app.config["PUSH_KEEP_DAYS"] * 24 * HOUR_MS
    with app.app_context():
        worker.prune(clock.ms + keep_ms - 1)
    assert db.session.scalar(select(func.count()).select_from(PushDelivery)) == 2
    with app.app_context():
        worker.prune(clock.ms + keep_ms + 1)
    assert db.session.scalars(select(PushDelivery.id)).all() == [second.id]
