"""The access and change log: who did what, when, from which device."""

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.records import now_ms


class AuditEntry(db.Model):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[int] = mapped_column(BigInteger, nullable=False, default=now_ms, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    device_id: Mapped[str | None] = mapped_column(String(36))
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    entity: Mapped[str] = mapped_column(String(24), nullable=False)
    record_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    version: Mapped[int | None] = mapped_column(Integer)
    # Names of the fields changed (values stay in the record: personal data is not copied).
    fields: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    address: Mapped[str | None] = mapped_column(String(64))
