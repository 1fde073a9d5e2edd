"""Columns every replicated record carries, and the clock they are stamped with."""

import time

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column


def now_ms() -> int:
    return int(time.time() * 1000)


class RecordMixin:
    """A record made on a device: UUID id, server version, audit stamps, soft delete.

    `field_meta` maps each field to `[version, hlc]` of its last write: that is the
    per-field change tracking the three-way merge reads, without copies of old versions.
    """

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[int] = mapped_column(BigInteger, nullable=False, default=now_ms)
    updated_at: Mapped[int] = mapped_column(BigInteger, nullable=False, default=now_ms)
    deleted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    field_meta: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)

    @declared_attr
    def created_by(cls) -> Mapped[int]:
        return mapped_column(Integer, ForeignKey("users.id"), nullable=False)


class BoothScopedMixin:
    """Booth, block and district of a record, kept together so scope filters use one index."""

    @declared_attr
    def booth_id(cls) -> Mapped[int]:
        return mapped_column(Integer, ForeignKey("units.id"), nullable=False, index=True)

    @declared_attr
    def block_id(cls) -> Mapped[int]:
        return mapped_column(Integer, ForeignKey("units.id"), nullable=False, index=True)

    @declared_attr
    def district_id(cls) -> Mapped[int]:
        return mapped_column(Integer, ForeignKey("units.id"), nullable=False, index=True)
