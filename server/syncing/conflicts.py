"""Conflict records in a push: their record type, new ones the engine adds, and erasing a
withdrawn member's fields from the ones about it."""

import uuid
from types import SimpleNamespace

from marshmallow import fields
from sqlalchemy import select

from server.extensions import db
from server.record_schema import RecordSchema, hlc_field
from server.records import RecordType
from server.syncing import visibility
from server.syncing.models import Conflict
from sync.fields import one_of
from sync.protocol import ENTITIES
from sync.records.conflicts import conflict_values
from sync.registry import rules_for


class ConflictRecord(RecordSchema):
    """A change that lost a merge, kept for the people who may settle it."""

    entity = fields.String(required=True, validate=one_of(ENTITIES))
    record_id = fields.String(required=True)
    kind = fields.String(required=True)
    lost = fields.Dict(required=True, metadata={"description": "The values that lost."})
    kept = fields.Dict(required=True, metadata={"description": "The values kept instead."})
    lost_hlc = hlc_field(required=True)
    author_id = fields.Integer(required=True, allow_none=True)
    resolved = fields.Boolean(required=True)
    booth_id = fields.Integer(required=True, allow_none=True)


def conflict_index_row(store, row) -> dict:
    """A conflict record is exactly as visible as the record it is about, a meeting too."""
    if row.entity in visibility.PARENTS:
        return visibility.attached_row(store, row.entity, row.record_id, row)
    return visibility.meeting_conflict_row(store, row)


CONFLICT = RecordType(
    rules=rules_for("conflict"),
    model=Conflict,
    schema=ConflictRecord,
    index_row=conflict_index_row,
)


class ConflictRecords:
    """The BatchStore's new conflict records (`conflicts`, rows written as they are) and
    the edits of stored ones."""

    def add_conflict(self, about, place, kind, lost, kept, lost_hlc, author_id, actor):
        self.conflicts.append(
            {
                "id": str(uuid.uuid4()),
                "version": 1,
                "created_by": actor.user_id,
                "created_at": self.now,
                "updated_at": self.now,
                "deleted": False,
                "field_meta": {},
                **conflict_values(about, place, kind, lost, kept, lost_hlc, author_id),
                "block_id": place.id if place.type == "block" else place.block_id,
                "district_id": place.id if place.type == "district" else place.district_id,
            }
        )
        self.audit.append(
            {
                "action": "conflict",
                "entity": about.entity,
                "record_id": about.id,
                "version": about.version,
                "fields": sorted(lost),
            }
        )

    def erase_from_conflicts(self, record, fields):
        """Take the erased fields out of every conflict record about this record."""
        stored = db.session.execute(
            select(Conflict.id).where(
                Conflict.entity == record.entity, Conflict.record_id == record.id
            )
        ).scalars()
        self._fetch("conflict", list(stored))
        for key, conflict in list(self.records.items()):
            if (
                key[0] != "conflict"
                or conflict is None
                or conflict.values["record_id"] != record.id
            ):
                continue
            self._touch(key)
            lost, kept = dict(conflict.values["lost"]), dict(conflict.values["kept"])
            if any(f in lost or f in kept for f in fields):
                for name in fields:
                    lost.pop(name, None)
                    kept.pop(name, None)
                conflict.values.update(lost=lost, kept=kept, resolved=True)
                conflict.version += 1
                conflict.meta.update(lost=[conflict.version, ""], kept=[conflict.version, ""])
                self.save(
                    conflict,
                    ["lost", "kept", "resolved"],
                    SimpleNamespace(user_id=self.actor.user.id),
                    "",
                    self.place(conflict.values["booth_id"] or conflict.values["unit_id"]),
                    "erase",
                )
        for row in self.conflicts:
            if row["record_id"] == record.id and any(
                f in row["lost"] or f in row["kept"] for f in fields
            ):
                for name in fields:
                    row["lost"].pop(name, None)
                    row["kept"].pop(name, None)
                row["resolved"] = True
