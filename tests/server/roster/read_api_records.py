"""Rows for the read API tests, written straight through the ORM (the sync engine's job)."""

import itertools
import re
import uuid
from contextlib import contextmanager

from sqlalchemy import event

from server.extensions import db
from server.geo.models import Unit
from server.grievances.models import DUE_DAYS, Grievance, GrievanceNote
from server.records import now_ms
from server.roster.models import Member
from sync.fields import nfc

DAY_MS = 24 * 3600 * 1000
_ref_serial = itertools.count(1)


def _placed(booth: Unit, created_by, **values):
    """Booth, block and district from the booth Unit, a fresh UUID and the author."""
    return {
        "id": str(uuid.uuid4()),
        "booth_id": booth.id,
        "block_id": booth.block_id,
        "district_id": booth.district_id,
        "created_by": created_by.id,
        **values,
    }


def add_member(booth, created_by, name, **values):
    values.setdefault("age", 22)
    values.setdefault("gender", "female")
    values.setdefault("consent", True)
    values.setdefault("consent_at", now_ms())
    member = Member(**_placed(booth, created_by, name=nfc(name), **values))
    db.session.add(member)
    db.session.commit()
    return member


def add_grievance(booth, created_by, description, reported_at=None, **values):
    reported_at = reported_at or now_ms()
    values.setdefault("category", "road")
    values.setdefault("ref_no", f"RAN-2026-{next(_ref_serial):06d}")
    values.setdefault("due_at", reported_at + DUE_DAYS * DAY_MS)
    if "complainant_name" in values:
        values["complainant_name"] = nfc(values["complainant_name"])
    grievance = Grievance(
        **_placed(
            booth, created_by, description=nfc(description), reported_at=reported_at, **values
        )
    )
    db.session.add(grievance)
    db.session.commit()
    return grievance


def add_note(grievance, created_by, text, created_at, **values):
    booth = db.session.get(Unit, grievance.booth_id)
    note = GrievanceNote(
        **_placed(
            booth,
            created_by,
            grievance_id=grievance.id,
            text=nfc(text),
            created_at=created_at,
            updated_at=created_at,
            **values,
        )
    )
    db.session.add(note)
    db.session.commit()
    return note


@contextmanager
def statements():
    """Collect the SQL statements sent to the database inside the block."""
    sent = []

    def _record(_conn, _cursor, statement, _params, _context, _executemany):
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", _record)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", _record)


def touching(sent, table):
    """The statements that read `table` (FROM or JOIN)."""
    pattern = re.compile(rf"\b(FROM|JOIN) {table}\b")
    return [s for s in sent if pattern.search(s)]
