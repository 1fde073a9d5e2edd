"""The "one booth, 20 youth" roster."""

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.records import BoothScopedMixin, RecordMixin
from sync.fields import MEMBER_STATUSES  # noqa: F401  (re-exported for the domain)

PENDING, APPROVED, REJECTED, WAITLISTED = "pending", "approved", "rejected", "waitlisted"


class Member(RecordMixin, BoothScopedMixin, db.Model):
    __tablename__ = "members"
    __table_args__ = (
        # One EPIC on one live member at a time (rule 6 of docs/protocol.md), enforced by the database too.
        Index(
            "uq_members_epic_live",
            "epic",
            unique=True,
            postgresql_where=text("deleted = false AND epic IS NOT NULL"),
            sqlite_where=text("deleted = 0 AND epic IS NOT NULL"),
        ),
        Index("ix_members_booth_status", "booth_id", "status"),
    )

    name: Mapped[str] = mapped_column(String(120), nullable=False)
    age: Mapped[int] = mapped_column(Integer, nullable=False)
    gender: Mapped[str] = mapped_column(String(8), nullable=False)
    phone: Mapped[str | None] = mapped_column(String(10), index=True)
    epic: Mapped[str | None] = mapped_column(String(10))
    skills: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    consent: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    consent_at: Mapped[int | None] = mapped_column(BigInteger)
    notes: Mapped[str] = mapped_column(Text, nullable=False, default="")
    status: Mapped[str] = mapped_column(String(12), nullable=False, default=PENDING)
    status_reason: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    # When it entered the waitlist: the earliest is promoted first.
    waitlisted_at: Mapped[int | None] = mapped_column(BigInteger)
    reviewed_by: Mapped[int | None] = mapped_column(Integer)
    reviewed_at: Mapped[int | None] = mapped_column(BigInteger)
