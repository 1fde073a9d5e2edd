"""Grievances reported from the booths, and their append-only notes."""

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.records import BoothScopedMixin, RecordMixin
from sync.fields import GRIEVANCE_CATEGORIES, GRIEVANCE_STATUSES  # noqa: F401

# CPGRAMS time limit since 2024, counted from when the grievance was typed on the phone.
DUE_DAYS = 21


class Grievance(RecordMixin, BoothScopedMixin, db.Model):
    __tablename__ = "grievances"

    ref_no: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    category: Mapped[str] = mapped_column(String(24), nullable=False, index=True)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    complainant_name: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    complainant_phone: Mapped[str | None] = mapped_column(String(10))
    against: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="new", index=True)
    # When it was typed on the phone; the time limit counts from here, not from arrival.
    reported_at: Mapped[int] = mapped_column(BigInteger, nullable=False)
    due_at: Mapped[int] = mapped_column(BigInteger, nullable=False)
    status_history: Mapped[list] = mapped_column(db.JSON, nullable=False, default=list)


class GrievanceNote(RecordMixin, BoothScopedMixin, db.Model):
    __tablename__ = "grievance_notes"

    grievance_id: Mapped[str] = mapped_column(
        ForeignKey("grievances.id"), nullable=False, index=True
    )
    text: Mapped[str] = mapped_column(Text, nullable=False)


class GrievanceSerial(db.Model):
    """The last reference serial given per district and year (e.g. RAN-2026-000123)."""

    __tablename__ = "grievance_serials"
    __table_args__ = (UniqueConstraint("district_id", "year", name="uq_grievance_serials_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("units.id"), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    last: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
