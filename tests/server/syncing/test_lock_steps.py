"""The steps of a push's prefetch that lock (server/syncing/prefetch.py, locks.py), one by one
on whichever database runs the tests.

A push calls them only on PostgreSQL (SQLite runs one writer at a time); what they read,
remember and record in the lock ledger is the same on both, and SQLAlchemy leaves the
`FOR UPDATE` out on SQLite, so they are checked here step by step. The lock order itself,
under real concurrent connections, is test_lock_order.py's (PostgreSQL).
"""

import logging

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import postgresql

from server.accounts.models import Device, User
from server.auth import Actor
from server.extensions import db
from server.grievances.models import Grievance, GrievanceSerial
from server.grievances.store import ist_year
from server.meetings.models import Meeting
from server.roster.models import Member
from server.syncing import locks, prefetch
from server.syncing.locks import BOOTH, DEVICE, EPIC, RECORD, SERIAL, LockLedger
from server.syncing.models import Conflict
from server.syncing.registry import ENTITY_ORDER
from server.syncing.store import BatchStore
from tests.server.syncing.phone import Phone, member_fields, new_id

DAY = 86_400_000


def ranked(entity, record_id):
    return (ENTITY_ORDER.index(entity), record_id)


# ---------------------------------------------------------------- the ledger


def test_the_ledger_keeps_the_highest_lock_and_logs_one_taken_below_it(caplog):
    ledger = LockLedger()
    assert ledger.high == (DEVICE, ())
    with caplog.at_level(logging.DEBUG, logger="server.syncing.locks"):
        ledger.take(BOOTH, [])  # nothing locked: nothing noted
        assert ledger.high == (DEVICE, ())
        ledger.take(BOOTH, [3, 7])
        assert ledger.high == (BOOTH, 7)
        ledger.take(BOOTH, [7])  # the same lock again is not out of order
        ledger.take(EPIC, ["JHA0000001", "JHA0000009"])
        assert ledger.high == (EPIC, "JHA0000009")
        assert caplog.records == []
        ledger.take(EPIC, ["JHA0000005", "JHZ0000001"])  # starts below, ends above
        assert ledger.high == (EPIC, "JHZ0000001")
        ledger.take(BOOTH, [1])  # wholly below: the highest stays
        assert ledger.high == (EPIC, "JHZ0000001")
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.WARNING, "Lock taken out of order: EPIC JHA0000005 after EPIC JHA0000009"),
        (logging.WARNING, "Lock taken out of order: booth 1 after EPIC JHZ0000001"),
    ]


def test_the_ledger_names_every_level_in_its_warning(caplog):
    ledger = LockLedger()
    ledger.take(SERIAL, [(4, 2026)])
    with caplog.at_level(logging.WARNING, logger="server.syncing.locks"):
        for level in (DEVICE, BOOTH, EPIC, RECORD):
            ledger.take(level, ["k"])
    assert [r.getMessage() for r in caplog.records] == [
        f"Lock taken out of order: {name} k after serial (4, 2026)"
        for name in ("device", "booth", "EPIC", "record")
    ]


# ---------------------------------------------------------------- the prefetch's steps


@pytest.fixture
def world(app, client, make):
    g = make.geo()
    w = type("World", (), {})()
    w.g = g
    w.volunteer = make.user("volunteer", g.b1)
    w.president = make.user("block_president", g.k1)
    w.a = Phone(client, make, w.volunteer)
    w.b = Phone(client, make, w.volunteer)
    w.p = Phone(client, make, w.president)
    return w


def batch_of(user_id, device_id):
    """A push's BatchStore for this user and device (in the test's app context)."""
    return BatchStore(Actor(db.session.get(User, user_id), db.session.get(Device, device_id)))


def grievance(booth, record_id=None, **fields):
    return {
        "entity": "grievance",
        "id": record_id or new_id(),
        "fields": {"booth_id": booth.id, "category": "water", "description": "नल", **fields},
    }


def test_serials_wanted_are_those_of_the_districts_of_new_grievances(app, world):
    g = world.g
    stored = new_id()
    assert world.a.send("grievance", stored, grievance(g.b1)["fields"])["status"] == "applied"
    with app.app_context():
        batch = batch_of(world.volunteer.id, world.a.device_id)
        batch._fetch("grievance", [stored])
        year = ist_year(batch.now)
        mutations = [
            grievance(g.b1),
            grievance(g.b2),  # the same district: one serial
            grievance(g.b4),
            grievance(g.b3, stored.upper()),  # already stored (any case): no new serial
            grievance(g.k3),  # a block is no booth
            grievance(g.b1, booth_id=987654),  # no such unit
            grievance(g.b1, booth_id=str(g.b4.id)),  # not an id
            grievance(g.b1, booth_id=2**40),  # out of range
            {**grievance(g.b4), "entity": "member"},
            {**grievance(g.b4), "id": 7},
            {**grievance(g.b4), "fields": [g.b4.id]},
        ]
        assert prefetch.serials_wanted(batch, mutations) == sorted(
            [(g.d1.id, year), (g.d2.id, year)]
        )
        assert prefetch.serials_wanted(batch, [grievance(g.b3, stored)]) == []


def test_lock_serials_reads_or_creates_each_serial_row_once(app, world):
    g = world.g
    assert world.a.send("grievance", new_id(), grievance(g.b1)["fields"])["status"] == "applied"
    with app.app_context():
        batch = batch_of(world.volunteer.id, world.a.device_id)
        year = ist_year(batch.now)
        first = (g.d1.id, year)
        row = db.session.query(GrievanceSerial).filter_by(district_id=g.d1.id, year=year).one()
        assert row.last == 1
        keys = [first, (g.d2.id, year)]
        prefetch.lock_serials(batch, keys)
        created = db.session.query(GrievanceSerial).filter_by(district_id=g.d2.id).one()
        assert batch.serials == {first: [row.id, 1], (g.d2.id, year): [created.id, 0]}
        assert created.year == year and created.last == 0
        assert batch.ledger.high == (SERIAL, (g.d2.id, year))
        # One already held is not read again: the batch's count is ahead of the table's.
        batch.serials[first][1] = 9
        batch.ledger.high = (DEVICE, ())
        prefetch.lock_serials(batch, [first])
        assert batch.serials[first] == [row.id, 9]
        assert batch.ledger.high == (DEVICE, ())
        assert locks.serial_rows(db.session, GrievanceSerial, [first]) == {first: [row.id, 1]}
        db.session.rollback()


def meeting_fields(world):
    return {
        "title": "प्रखंड बैठक",
        "starts_at": world.p.now() + DAY,
        "unit_id": world.g.k1.id,
        "audience_roles": ["volunteer", "block_president"],
    }


def test_lock_records_takes_what_the_batch_names_and_the_actors_other_answers(app, world, make):
    g = world.g
    meeting_id, other_meeting = new_id(), new_id()
    for mid in (meeting_id, other_meeting):
        assert world.p.send("meeting", mid, meeting_fields(world))["status"] == "applied"
    mine = world.a.send("rsvp", new_id(), {"meeting_id": meeting_id, "answer": "yes"})["id"]
    world.a.send("rsvp", new_id(), {"meeting_id": other_meeting, "answer": "no"})
    neighbour = Phone(world.a.client, make, make.user("volunteer", g.b1))
    theirs = neighbour.send("rsvp", new_id(), {"meeting_id": meeting_id, "answer": "no"})["id"]
    gid, missing, created = new_id(), new_id(), new_id()
    assert world.a.send("grievance", gid, grievance(g.b1)["fields"])["status"] == "applied"
    member_id = new_id()
    assert world.a.send("member", member_id, member_fields(g.b1))["status"] == "applied"
    with app.app_context():
        # The same person's other phone answers the meeting again.
        batch = batch_of(world.volunteer.id, world.b.device_id)
        batch.records[("grievance", created)] = None  # one this batch creates
        ids = {
            "member": {member_id},
            "grievance": {gid, missing, created},
            "meeting": {meeting_id},
            "rsvp": {theirs},  # named by the batch: taken beside the actor's own answers
        }
        prefetch.lock_records(batch, ids, set())
        assert batch.locked_records == {
            ("grievance", gid),
            ("grievance", missing),
            ("meeting", meeting_id),
            ("rsvp", mine),
            ("rsvp", theirs),
        }
        assert batch.records[("rsvp", mine)].values["answer"] == "yes"
        assert batch.records[("grievance", gid)].values["booth_id"] == g.b1.id
        assert batch.records[("grievance", missing)] is None
        assert batch.records[("grievance", created)] is None
        assert ("member", member_id) not in batch.records  # members: their booth's lock
        assert batch.db_versions[("meeting", meeting_id)] == 1
        assert batch.ledger.high == (RECORD, ranked("rsvp", max(mine, theirs)))
        # Records are read again under the lock: the stored state, not the one held.
        db.session.query(Meeting).filter_by(id=meeting_id).update({"title": "बदली बैठक"})
        again = batch_of(world.volunteer.id, world.b.device_id)
        again._fetch("grievance", [gid])
        db.session.query(Grievance).filter_by(id=gid).update({"description": "नया"})
        prefetch.lock_records(again, {"grievance": {gid}, "meeting": {meeting_id}}, set())
        assert again.records[("grievance", gid)].values["description"] == "नया"
        assert again.records[("meeting", meeting_id)].values["title"] == "बदली बैठक"
        assert again.ledger.high == (RECORD, ranked("rsvp", mine))
        db.session.rollback()


def test_lock_records_takes_the_conflicts_about_a_member_whose_consent_is_withdrawn(app, world):
    g = world.g
    member_id = new_id()
    v = world.a.send("member", member_id, member_fields(g.b1))["version"]
    world.a.send("member", member_id, {"phone": "9000012345"}, base=v, hlc=world.a.hlc(-1000))
    lost = world.b.send(
        "member", member_id, {"phone": "9111112345"}, base=v, hlc=world.b.hlc(-5000)
    )
    assert lost["status"] == "conflict"
    other = new_id()
    world.a.send("member", other, member_fields(g.b1))
    with app.app_context():
        batch = batch_of(world.volunteer.id, world.a.device_id)
        named = new_id()  # a conflict the batch names itself is taken too
        prefetch.lock_records(batch, {"conflict": {named}}, {member_id})
        (conflict_id,) = db.session.scalars(
            select(Conflict.id).where(Conflict.record_id == member_id)
        ).all()
        assert batch.locked_records == {("conflict", conflict_id), ("conflict", named)}
        assert batch.records[("conflict", conflict_id)].values["record_id"] == member_id
        assert batch.ledger.high == (RECORD, ranked("conflict", max(conflict_id, named)))
        nothing = batch_of(world.volunteer.id, world.a.device_id)
        prefetch.lock_records(nothing, {}, {other})
        assert nothing.locked_records == set() and nothing.ledger.high == (DEVICE, ())
        db.session.rollback()


def test_record_version_reads_one_row_now(app, world):
    gid = new_id()
    assert world.a.send("grievance", gid, grievance(world.g.b1)["fields"])["status"] == "applied"
    with app.app_context():
        for lock in (True, False):
            assert locks.record_version(db.session, Grievance, gid, lock=lock) == 1
        assert locks.record_version(db.session, Grievance, new_id()) is None
        rows = locks.record_rows(db.session, Grievance, [gid, new_id()])
        assert [(r.id, r.version) for r in rows] == [(gid, 1)]
        db.session.rollback()


# ---------------------------------------------------------------- the statements PostgreSQL gets


class Recorder:
    """A session that keeps the statements it is given and answers none of them."""

    def __init__(self):
        self.statements = []

    def execute(self, statement, params=None):
        self.statements.append((statement, params))
        return Answer()


class Answer:
    def scalar(self):
        return None

    def scalars(self):
        return iter(())

    def __iter__(self):
        return iter(())


def on_postgres(statement) -> str:
    return " ".join(str(statement.compile(dialect=postgresql.dialect())).split())


def test_rows_are_locked_for_no_key_update_in_key_order():
    """The row locks let other tables' foreign-key checks through (NO KEY UPDATE, not
    UPDATE), and are taken in the order of the keys."""
    session = Recorder()
    locks.record_rows(session, Grievance, {"b", "a"})
    locks.record_version(session, Grievance, "a")
    locks.record_version(session, Member, "a", lock=False)
    locks.serial_rows(session, GrievanceSerial, [(1, 2026)])
    rows, late, unlocked, serials = (on_postgres(s) for s, _ in session.statements)
    assert rows.endswith("ORDER BY grievances.id FOR NO KEY UPDATE"), rows
    assert late.endswith("WHERE grievances.id = %(id_1)s FOR NO KEY UPDATE"), late
    assert unlocked.endswith("WHERE members.id = %(id_1)s"), unlocked
    assert serials.endswith(
        "ORDER BY grievance_serials.district_id, grievance_serials.year FOR NO KEY UPDATE"
    ), serials


def test_booths_and_epics_are_locked_in_one_statement_each_in_ascending_order():
    session = Recorder()
    locks.booth_rows(session, (3, 1))
    locks.epic_keys(session, ("JHB0000002", "JHA0000001"))
    (booths, booth_params), (epics, epic_params) = session.statements
    booth_sql, epic_sql = on_postgres(booths), on_postgres(epics)
    assert booth_sql.startswith("SELECT id FROM units WHERE id = ANY(%(ids)s)"), booth_sql
    assert booth_sql.endswith("ORDER BY id FOR NO KEY UPDATE"), booth_sql
    assert booth_params == {"ids": [3, 1]}
    assert epic_sql.startswith("SELECT pg_advisory_xact_lock(hashtextextended('epic:' || e, 0))")
    assert epic_sql.endswith("FROM unnest(CAST(%(epics)s AS text[])) AS e ORDER BY e"), epic_sql
    assert epic_params == {"epics": ["JHB0000002", "JHA0000001"]}
