"""Columns every replicated record carries, the clock they are stamped with, and the shape
of a record type's declaration."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from sync.registry import RecordRules


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


# Columns that are not a record's values (the engine sees everything else).
META_COLUMNS = frozenset(
    {
        "id",
        "version",
        "created_at",
        "updated_at",
        "created_by",
        "deleted",
        "field_meta",
        "block_id",
        "district_id",
    }
)


def column_default(column):
    """A column's Python-side default (the bulk insert does not run the ORM's)."""
    if column.default is None:
        return None
    arg = column.default.arg
    return arg(None) if callable(arg) else arg


@dataclass(frozen=True)
class RecordType:
    """One replicated record type as the server stores and serves it.

        `entity` is the name on the wire (and in sync/'s rules); `booth_scoped` records carry
        their booth's block and district; `schema` is its one marshmallow schema at the edge
    (server/record_schema.py), from which its wire form, REST answers and OpenAPI schema come;
        `index_row(store, row)` gives the change-index columns saying who pulls a record
        (`row` is the record as written, attribute access; `store` the push's BatchStore);
        `parent` is (field, entity) of the record a record refers to and its mutation reads.
        The registry (server/syncing/registry.py) lists the types, parents before children.
    """

    rules: RecordRules
    model: type
    schema: type
    index_row: Callable
    parent: tuple[str, str] | None = None

    @property
    def entity(self) -> str:
        return self.rules.entity

    @property
    def booth_scoped(self) -> bool:
        return self.rules.booth_scoped

    @cached_property
    def value_columns(self) -> list[str]:
        """The columns the engine sees as the record's values."""
        return [c.key for c in self.model.__table__.columns if c.key not in META_COLUMNS]

    @cached_property
    def defaults(self) -> dict:
        values = set(self.value_columns)
        return {c.key: column_default(c) for c in self.model.__table__.columns if c.key in values}
