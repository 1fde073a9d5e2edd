"""Meeting alerts over time: reminders 24 hours and 1 hour before, once each, with a
controllable clock; moved and cancelled meetings; writes that queue the alerts."""

import threading

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.push import alerts
from server.push.alerts import meeting_changed
from server.push.models import PushDelivery, PushEvent
from server.push.worker import PushWorker
from tests.server.push.fixtures import HOUR_MS, make_meeting, subscribe

MINUTE_MS = 60 * 1000


@pytest.fixture
def block(client, make, standin):
    """A block president and two subscribed volunteers of block k1."""
    g = make.geo()
    leader = make.user("block_president", g.k1)
    phones = [subscribe(client, make, standin, make.user("volunteer", b)) for b in (g.b1, g.b2)]
    return g, leader, phones


def kinds(standin):
    """The kinds of alert received, in the order they were raised."""
    return [m.payload["kind"] for m in sorted(standin.received, key=lambda m: m.payload["event"])]


def test_reminders_fire_24h_and_1h_before_once_each(block, standin, worker, clock):
    g, leader, phones = block
    start = clock.ms + 48 * HOUR_MS
    meeting_changed(make_meeting(leader, g.k1, start), "created", leader, now=clock.ms)
    db.session.commit()
    worker.run_once()
    assert kinds(standin) == ["created", "created"]

    clock.ms = start - 24 * HOUR_MS - 1
    assert worker.run_once()["reminders"] == 0
    clock.ms = start - 24 * HOUR_MS
    assert worker.run_once()["reminders"] == 1
    day_before = standin.received[2:]
    assert sorted(m.name for m in day_before) == sorted(phones)
    assert {m.payload["title"] for m in day_before} == {"कल बैठक: बूथ समिति की बैठक"}
    assert {m.urgency for m in day_before} == {"normal"}

    clock.advance(10 * MINUTE_MS)
    assert worker.run_once()["reminders"] == 0
    clock.ms = start - HOUR_MS - 1
    worker.run_once()
    assert len(standin.received) == 4

    clock.ms = start - HOUR_MS
    assert worker.run_once()["reminders"] == 1
    hour_before = standin.received[4:]
    assert {m.payload["kind"] for m in hour_before} == {"reminder_1h"}
    assert {m.urgency for m in hour_before} == {"high"}
    assert {m.payload["title"] for m in hour_before} == {"1 घंटे में बैठक: बूथ समिति की बैठक"}

    for at in (start - 30 * MINUTE_MS, start - 1, start + HOUR_MS):
        clock.ms = at
        assert worker.run_once()["reminders"] == 0
    assert kinds(standin) == ["created"] * 2 + ["reminder_24h"] * 2 + ["reminder_1h"] * 2


def test_meeting_called_at_short_notice_skips_the_day_before_reminder(
    block, standin, worker, clock
):
    g, leader, _ = block
    start = clock.ms + 3 * HOUR_MS
    meeting_changed(make_meeting(leader, g.k1, start), "created", leader, now=clock.ms)
    db.session.commit()
    for at in (clock.ms, clock.ms + HOUR_MS, start - HOUR_MS, start - 1):
        clock.ms = at
        worker.run_once()
    assert kinds(standin) == ["created"] * 2 + ["reminder_1h"] * 2


def test_late_worker_sends_only_the_reminder_still_due(block, standin, worker, clock):
    """A worker that was down through the 24-hour mark sends the 1-hour reminder only."""
    g, leader, _ = block
    start = clock.ms + 48 * HOUR_MS
    meeting_changed(make_meeting(leader, g.k1, start), "created", leader, now=clock.ms)
    db.session.commit()
    clock.ms = start - 50 * MINUTE_MS
    worker.run_once()
    assert kinds(standin) == ["created"] * 2 + ["reminder_1h"] * 2


def test_moved_meeting_gets_reminders_for_the_new_time(block, standin, worker, clock):
    g, leader, _ = block
    start = clock.ms + 48 * HOUR_MS
    meeting = make_meeting(leader, g.k1, start)
    meeting_changed(meeting, "created", leader, now=clock.ms)
    db.session.commit()
    clock.ms = start - 24 * HOUR_MS
    worker.run_once()
    # Moved two days later: an alert now, and the day-before reminder for the new time.
    meeting.starts_at, meeting.version = start + 48 * HOUR_MS, 2
    meeting_changed(meeting, "changed", leader, now=clock.ms)
    db.session.commit()
    worker.run_once()
    clock.ms = start - HOUR_MS  # the old 1-hour mark: nothing
    worker.run_once()
    clock.ms = start + 24 * HOUR_MS
    worker.run_once()
    assert kinds(standin) == (
        ["created"] * 2 + ["reminder_24h"] * 2 + ["changed"] * 2 + ["reminder_24h"] * 2
    )
    changed = next(m for m in standin.received if m.payload["kind"] == "changed")
    assert changed.payload["title"] == "बैठक में बदलाव: बूथ समिति की बैठक"


def test_moved_earlier_needs_no_reminder_right_after_the_change_alert(
    block, standin, worker, clock
):
    g, leader, _ = block
    meeting = make_meeting(leader, g.k1, clock.ms + 72 * HOUR_MS)
    meeting_changed(meeting, "created", leader, now=clock.ms)
    db.session.commit()
    meeting.starts_at, meeting.version = clock.ms + 5 * HOUR_MS, 2
    meeting_changed(meeting, "changed", leader, now=clock.ms)
    db.session.commit()
    worker.run_once()
    assert kinds(standin) == ["created"] * 2 + ["changed"] * 2


def test_cancelled_meeting_gets_no_reminders_and_queued_ones_are_dropped(
    block, standin, worker, clock
):
    g, leader, phones = block
    start = clock.ms + 48 * HOUR_MS
    meeting = make_meeting(leader, g.k1, start)
    meeting_changed(meeting, "created", leader, now=clock.ms)
    db.session.commit()
    worker.run_once()
    # The day-before reminder is raised, but the push service is down for one phone...
    standin.script(phones[0], 503)
    clock.ms = start - 24 * HOUR_MS
    worker.run_once()
    # ...and the meeting is cancelled before the retry.
    meeting.status, meeting.version = "cancelled", 2
    meeting_changed(meeting, "cancelled", leader, now=clock.ms)
    db.session.commit()
    clock.advance(HOUR_MS)
    worker.run_once()
    clock.ms = start - HOUR_MS
    worker.run_once()
    assert kinds(standin) == ["created"] * 2 + ["reminder_24h"] + ["cancelled"] * 2
    assert (
        db.session.scalar(
            select(func.count()).select_from(PushDelivery).where(PushDelivery.status == "expired")
        )
        == 1
    )


def test_no_alert_for_a_meeting_already_under_way(block, standin, worker, clock):
    g, leader, _ = block
    meeting = make_meeting(leader, g.k1, clock.ms - MINUTE_MS)
    assert meeting_changed(meeting, "changed", leader, now=clock.ms) is None
    db.session.commit()
    worker.run_once()
    assert standin.received == []


def test_unknown_kind_is_a_programming_error(block, clock):
    g, leader, _ = block
    with pytest.raises(ValueError):
        meeting_changed(make_meeting(leader, g.k1, clock.ms + HOUR_MS), "moved", leader)


def test_two_schedulers_raise_a_reminder_once(app, block, standin, clock):
    g, leader, _ = block
    start = clock.ms + 24 * HOUR_MS
    for _ in range(5):
        make_meeting(leader, g.k1, start)
    db.session.commit()
    db.session.remove()
    raised = []
    barrier = threading.Barrier(2)

    def run():
        with app.app_context():
            barrier.wait()
            raised.append(alerts.schedule_reminders(clock.ms))
            db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sum(raised) == 5
    assert db.session.scalar(select(func.count()).select_from(PushEvent)) == 5
    assert db.session.scalar(select(func.count()).select_from(PushDelivery)) == 10
    worker = PushWorker(app, clock=clock)
    try:
        worker.run_once()
    finally:
        worker.sender.close()
    assert len(standin.received) == 10


def test_an_alert_records_how_many_phones_it_was_queued_for(block, clock):
    g, leader, phones = block
    meeting = make_meeting(leader, g.k1, clock.ms + 48 * HOUR_MS)
    assert meeting_changed(meeting, "created", leader, now=clock.ms) == len(phones)
    db.session.commit()
    event = db.session.scalars(select(PushEvent)).one()
    assert event.recipients == len(phones)
    assert db.session.scalar(select(func.count()).select_from(PushDelivery)) == len(phones)
