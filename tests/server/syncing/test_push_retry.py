"""A push lost to a deadlock is run again by the server and applied once; a lost database
connection is answered 503 with Retry-After, and the same batch sent again applies once.

The PostgreSQL tests use real connections: a second connection makes the push lose a
real deadlock, or terminates the push's own backend, from inside the push's transaction
(push.before_commit runs after the batch is written, before it commits).
"""

import logging
import threading
import time

import psycopg
import pytest
from sqlalchemy import func, select, text

from server.accounts.models import Device
from server.audit.models import AuditEntry
from server.extensions import db
from server.grievances.models import Grievance, GrievanceSerial
from server.meetings.models import Meeting
from server.push.models import PushDelivery, PushEvent, PushSubscription
from server.roster.models import Member
from server.syncing import push
from server.syncing.models import AppliedMutation, RecordChange
from tests.server.syncing.phone import Phone, member_fields, new_id

DAY_MS = 24 * 3600 * 1000


def libpq_url(app):
    return app.config["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg://", "postgresql://")


def batch_of_three(phone, g):
    """A member, a grievance (its reference number takes a serial) and a meeting (its
    alert is written in the push's transaction)."""
    return [
        phone.mutation("member", new_id(), member_fields(g.b1, epic="JHR1234567")),
        phone.mutation(
            "grievance",
            new_id(),
            {"booth_id": g.b1.id, "category": "water", "description": "हैंडपंप खराब है"},
        ),
        phone.mutation(
            "meeting",
            new_id(),
            {
                "title": "प्रखंड बैठक",
                "starts_at": phone_now() + 3 * DAY_MS,
                "unit_id": g.k1.id,
                "audience_roles": ["volunteer"],
            },
        ),
    ]


def phone_now():
    return int(time.time() * 1000)


def subscribe(make, user):
    device = make.device(user)
    db.session.add(
        PushSubscription(
            device_id=device.id,
            user_id=user.id,
            endpoint=f"https://fcm.googleapis.com/fcm/send/{device.id}",
            p256dh="B" * 87,
            auth="A" * 22,
        )
    )
    db.session.commit()


def assert_applied_once(phone, batch):
    """Each mutation of the batch is in the database exactly once, and so is its trace."""
    db.session.rollback()
    ids = {m["entity"]: m["id"] for m in batch}
    assert db.session.scalar(select(func.count()).select_from(Member)) == 1
    assert db.session.scalar(select(func.count()).select_from(Grievance)) == 1
    assert db.session.scalar(select(func.count()).select_from(Meeting)) == 1
    grievance = db.session.get(Grievance, ids["grievance"])
    assert grievance.ref_no.endswith("-000001")
    assert db.session.scalar(select(GrievanceSerial.last)) == 1
    device = db.session.get(Device, phone.device_id)
    assert device.last_seq == batch[-1]["seq"]
    applied = db.session.scalars(
        select(AppliedMutation.seq).where(AppliedMutation.device_id == phone.device_id)
    ).all()
    assert sorted(applied) == [m["seq"] for m in batch]
    audit = db.session.execute(
        select(AuditEntry.record_id, func.count())
        .where(AuditEntry.record_id.in_(list(ids.values())))
        .group_by(AuditEntry.record_id)
    ).all()
    assert dict(audit) == {record_id: 1 for record_id in ids.values()}
    changes = db.session.scalar(
        select(func.count())
        .select_from(RecordChange)
        .where(RecordChange.record_id.in_(list(ids.values())))
    )
    assert changes == 3
    # One alert about the meeting, queued once for the one subscribed volunteer.
    events = db.session.scalars(
        select(PushEvent).where(PushEvent.meeting_id == ids["meeting"], PushEvent.kind == "created")
    ).all()
    assert len(events) == 1
    assert db.session.scalar(select(func.count()).select_from(PushDelivery)) == 1


@pytest.mark.postgres_only
def test_a_push_that_loses_a_real_deadlock_is_run_again_and_applied_once(
    app, make, monkeypatch, caplog
):
    caplog.set_level(logging.WARNING)
    g = make.geo()
    subscribe(make, make.user("volunteer", g.b1))
    phone = Phone(app.test_client(), make, make.user("block_president", g.k1))
    batch = batch_of_three(phone, g)
    other_booth, device_id = g.b4.id, phone.device_id
    attempts, other_errors = [], []
    real_hook = push.before_commit

    def deadlock_once(applied):
        attempts.append(applied)
        if len(attempts) == 1:
            lose_a_deadlock(libpq_url(app), other_booth, device_id, other_errors)
        real_hook(applied)

    monkeypatch.setattr(push, "before_commit", deadlock_once)
    answer = phone.push(*batch)
    assert [r["status"] for r in answer["results"]] == ["applied"] * 3
    assert attempts == [3, 3]  # the batch was written twice; the first was rolled back
    assert not other_errors, other_errors
    retried = [r.getMessage() for r in caplog.records if "tried again" in r.getMessage()]
    assert len(retried) == 1 and "40P01" in retried[0]
    assert_applied_once(phone, batch)


def lose_a_deadlock(url, other_booth, device_id, errors):
    """Inside the push's transaction (which holds its device row): a second connection
    locks another row and waits for the device row; the push then asks for that row.
    The push checks for deadlocks after 10 ms, the other connection after 10 s, so the
    push is the one PostgreSQL cancels."""
    holding = threading.Event()
    pids = []

    def other():
        try:
            with psycopg.connect(url) as conn:
                pids.append(conn.info.backend_pid)
                conn.execute("SET deadlock_timeout = '10s'")
                conn.execute("SELECT id FROM units WHERE id = %s FOR UPDATE", (other_booth,))
                holding.set()
                conn.execute("SELECT id FROM devices WHERE id = %s FOR UPDATE", (device_id,))
                conn.rollback()
        except Exception as exc:  # reported to the test
            errors.append(repr(exc))
            holding.set()

    thread = threading.Thread(target=other, daemon=True)
    thread.start()
    assert holding.wait(10)
    for _ in range(500):  # until the other connection waits for the device row
        waiting = db.session.scalar(
            text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"),
            {"pid": pids[0]},
        )
        if waiting == "Lock":
            break
        time.sleep(0.01)
    assert waiting == "Lock"
    db.session.execute(text("SET LOCAL deadlock_timeout = '10ms'"))
    try:
        db.session.execute(
            text("SELECT id FROM units WHERE id = :b FOR UPDATE"), {"b": other_booth}
        )
    finally:
        # The push's transaction is rolled back by the server; the other one then goes on.
        threading.Thread(target=thread.join, args=(10,), daemon=True).start()


@pytest.mark.postgres_only
def test_a_push_whose_database_connection_is_terminated_answers_503_then_applies_once(
    app, make, monkeypatch, caplog
):
    caplog.set_level(logging.WARNING)
    g = make.geo()
    subscribe(make, make.user("volunteer", g.b1))
    phone = Phone(app.test_client(), make, make.user("block_president", g.k1))
    batch = batch_of_three(phone, g)
    url = libpq_url(app)
    real_hook = push.before_commit
    calls = []

    def terminate_once(applied):
        calls.append(applied)
        if len(calls) == 1:
            pid = db.session.scalar(text("SELECT pg_backend_pid()"))
            with psycopg.connect(url, autocommit=True) as admin:
                assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]
        real_hook(applied)

    monkeypatch.setattr(push, "before_commit", terminate_once)
    response = phone.push_raw(batch)
    assert response.status_code == 503, response.json
    assert response.json["error"]["code"] == "database_unavailable"
    assert int(response.headers["Retry-After"]) > 0
    assert calls == [3]  # a lost connection is not retried inside: the commit may be unknown
    warnings = [r for r in caplog.records if "Database unavailable" in r.getMessage()]
    assert warnings and all(r.exc_info is None for r in warnings)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Member)) == 0

    again = phone.push(*batch)  # the same batch, same seqs
    assert [r["status"] for r in again["results"]] == ["applied"] * 3
    assert_applied_once(phone, batch)
