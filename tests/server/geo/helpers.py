"""Helpers for the geography tests: booth list files, table snapshots, records in booths."""

import csv
import io
import uuid

from sqlalchemy import func, select

from server.audit.models import AuditEntry
from server.extensions import db
from server.geo.booth_lists import BOOTH_COLUMNS
from server.geo.models import Unit
from server.grievances.models import Grievance
from server.records import now_ms
from server.roster.models import Member

DAY_MS = 24 * 3600 * 1000


def booth_line(
    district="RAN",
    block=("Kanke", "काँके"),
    panchayat=("Pithoria", "पिठोरिया"),
    ac=65,
    booth=1,
    name=None,
):
    name = name or (f"Middle School Pithoria {booth}", f"मध्य विद्यालय पिठोरिया {booth}")
    return [district, *block, *panchayat, str(ac), str(booth), *name]


def write_booth_file(path, lines, header=BOOTH_COLUMNS, bom=True):
    """A booth list as Excel's "CSV UTF-8" saves it (with a byte-order mark)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(lines)
    path.write_text(("\ufeff" if bom else "") + out.getvalue(), encoding="utf-8")
    return path


def fresh():
    """End the test's read transaction so rows a command committed are seen (SQLite WAL)."""
    db.session.rollback()
    db.session.expire_all()


def unit_rows():
    fresh()
    return db.session.execute(select(Unit.__table__).order_by(Unit.id)).all()


def audit_count():
    fresh()
    return db.session.scalar(select(func.count()).select_from(AuditEntry))


def unit(type, code):
    fresh()
    return db.session.scalar(select(Unit).where(Unit.type == type, Unit.code == code))


def count_units(type):
    fresh()
    return db.session.scalar(select(func.count()).select_from(Unit).where(Unit.type == type))


def _placed(booth, author):
    return {
        "id": str(uuid.uuid4()),
        "booth_id": booth.id,
        "block_id": booth.block_id,
        "district_id": booth.district_id,
        "created_by": author.id,
    }


def add_member(booth, author, status="pending", deleted=False):
    member = Member(
        **_placed(booth, author),
        name="युवा साथी",
        age=22,
        gender="female",
        consent=True,
        consent_at=now_ms(),
        status=status,
        deleted=deleted,
    )
    db.session.add(member)
    db.session.commit()
    return member


def add_grievance(booth, author, status="new", deleted=False, category="road"):
    now = now_ms()
    grievance = Grievance(
        **_placed(booth, author),
        ref_no=f"T-{uuid.uuid4().hex[:12]}",
        category=category,
        description="सड़क टूटी है",
        status=status,
        reported_at=now,
        due_at=now + 21 * DAY_MS,
        deleted=deleted,
    )
    db.session.add(grievance)
    db.session.commit()
    return grievance
