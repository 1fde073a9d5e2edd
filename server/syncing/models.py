"""What the sync engine keeps: the change index, the applied-mutation log, conflicts."""

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.records import RecordMixin


class RecordChange(db.Model):
    """Where each record last changed, for the pull cursor: one row per record and scope.

    `change_tx` is the writing transaction's id (PostgreSQL `pg_current_xact_id()`;
    on SQLite, where writers are serial, a counter). A record that moves to another
    booth leaves a `removed` row behind under its old booth.
    """

    __tablename__ = "record_changes"
    __table_args__ = (
        Index("ix_record_changes_booth_tx", "booth_id", "change_tx"),
        Index("ix_record_changes_block_tx", "block_id", "change_tx"),
        Index("ix_record_changes_district_tx", "district_id", "change_tx"),
        Index("ix_record_changes_unit_tx", "unit_id", "change_tx"),
        Index("ix_record_changes_tx", "change_tx", "entity", "record_id"),
    )

    entity: Mapped[str] = mapped_column(String(16), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # "b<booth id>" for booth records (and their notes and conflicts; "b<id>r" restricted),
    # "u<unit id>a<audience bits>" for meetings and conflicts about them, "u" for RSVPs.
    scope_key: Mapped[str] = mapped_column(String(16), primary_key=True)
    change_tx: Mapped[int] = mapped_column(BigInteger, nullable=False)
    booth_id: Mapped[int | None] = mapped_column(Integer)
    block_id: Mapped[int | None] = mapped_column(Integer)
    district_id: Mapped[int | None] = mapped_column(Integer)
    # A meeting's unit; for an RSVP its meeting's unit.
    unit_id: Mapped[int | None] = mapped_column(Integer)
    # For meetings and conflict records about them, the roles that see it, as
    # ",role,role," for a LIKE test.
    audience: Mapped[str | None] = mapped_column(String(120))
    # An RSVP's person: only they and the meeting's leaders pull it.
    owner_id: Mapped[int | None] = mapped_column(Integer)
    removed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class SyncCounter(db.Model):
    """The SQLite stand-in for transaction ids: one row, bumped once per write transaction."""

    __tablename__ = "sync_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


class AppliedMutation(db.Model):
    """The outcome of every seq a device pushed, so a retry gets the same answer."""

    __tablename__ = "applied_mutations"

    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    entity: Mapped[str] = mapped_column(String(16), nullable=False)
    record_id: Mapped[str] = mapped_column(String(36), nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False)
    error: Mapped[dict | None] = mapped_column(JSON)
    at: Mapped[int] = mapped_column(BigInteger, nullable=False)


class Conflict(RecordMixin, db.Model):
    """A value that lost a merge, kept so its author or the block president can apply it."""

    __tablename__ = "conflicts"

    # The scope of the record it is about: a booth's, or a meeting's unit.
    booth_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    block_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))

    entity: Mapped[str] = mapped_column(String(16), nullable=False)
    record_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    # field (same field changed on both sides), delete (an edit lost to a delete),
    # changed_since_review (an approval of details that had changed since).
    kind: Mapped[str] = mapped_column(String(24), nullable=False)
    # {field: value} that lost, and {field: value} that was kept.
    lost: Mapped[dict] = mapped_column(JSON, nullable=False)
    kept: Mapped[dict] = mapped_column(JSON, nullable=False)
    lost_hlc: Mapped[str] = mapped_column(String(64), nullable=False)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
