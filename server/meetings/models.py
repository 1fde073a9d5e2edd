"""Meetings called by leaders, and the RSVPs of the people asked."""

from sqlalchemy import JSON, BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.records import RecordMixin
from sync.fields import MEETING_STATUSES, RSVP_ANSWERS  # noqa: F401


class Meeting(RecordMixin, db.Model):
    __tablename__ = "meetings"

    title: Mapped[str] = mapped_column(String(200), nullable=False)
    agenda: Mapped[str] = mapped_column(Text, nullable=False, default="")
    starts_at: Mapped[int] = mapped_column(BigInteger, nullable=False, index=True)
    place: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    online_url: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), nullable=False, index=True)
    audience_roles: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="scheduled")


class Rsvp(RecordMixin, db.Model):
    __tablename__ = "rsvps"
    __table_args__ = (UniqueConstraint("meeting_id", "user_id", name="uq_rsvps_meeting_user"),)

    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id"), nullable=False, index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    answer: Mapped[str] = mapped_column(String(8), nullable=False)
