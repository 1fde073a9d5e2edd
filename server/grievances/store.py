"""Grievances and their notes in a push: their record types, and reference numbers drawn
from the per-district, per-year serials."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from server.extensions import db
from server.grievances.models import Grievance, GrievanceNote, GrievanceSerial
from server.grievances.schemas import GrievanceNoteRecord, GrievanceRecord
from server.records import RecordType
from server.syncing import visibility
from server.syncing.database import is_postgres, upsert
from server.syncing.locks import SERIAL
from sync.registry import rules_for

IST = timedelta(hours=5, minutes=30)

GRIEVANCE = RecordType(
    rules=rules_for("grievance"),
    model=Grievance,
    schema=GrievanceRecord,
    index_row=lambda store, row: visibility.own_scope_row("grievance", row),
)

GRIEVANCE_NOTE = RecordType(
    rules=rules_for("grievance_note"),
    model=GrievanceNote,
    schema=GrievanceNoteRecord,
    parent=("grievance_id", "grievance"),
    # A note is exactly as visible as its grievance.
    index_row=lambda store, row: visibility.attached_row(store, "grievance", row.grievance_id, row),
)


def ist_year(now_ms: int) -> int:
    """The year (in India) a reference number issued at `now_ms` carries."""
    return (datetime.fromtimestamp(now_ms / 1000, UTC) + IST).year


class ReferenceNumbers:
    """The BatchStore's grievance serials: `serials` maps (district, year) to
    [row id, last number given]; the numbers are written back when the batch is."""

    def next_ref_no(self, district_id, now):
        """A readable, unique reference: district code, year (IST) and a serial."""
        year = ist_year(now)
        key = (district_id, year)
        if key not in self.serials:
            db.session.execute(
                upsert()(GrievanceSerial)
                .values(district_id=district_id, year=year, last=0)
                .on_conflict_do_nothing()
            )
            query = select(GrievanceSerial.id, GrievanceSerial.last).where(
                GrievanceSerial.district_id == district_id, GrievanceSerial.year == year
            )
            if is_postgres():
                self.ledger.take(SERIAL, [key])
                query = query.with_for_update(key_share=True)
            self.serials[key] = list(db.session.execute(query).one())
        self.serials[key][1] += 1
        return f"{self.place(district_id).code}-{year}-{self.serials[key][1]:06d}"

    def _write_serials(self):
        for row_id, last in self.serials.values():
            db.session.execute(
                update(GrievanceSerial).where(GrievanceSerial.id == row_id).values(last=last)
            )
