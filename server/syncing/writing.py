"""A push's writes: each record the engine saves, then the whole batch in bulk statements
(the rows, the change index, new conflict records, serials, the audit log)."""

import copy
from types import SimpleNamespace

from sqlalchemy import bindparam, insert, update

from server.audit.models import AuditEntry
from server.extensions import db
from server.syncing import prefetch, visibility
from server.syncing.database import current_tx, upsert
from server.syncing.models import Conflict, RecordChange
from server.syncing.registry import ENTITY_ORDER, RECORD_TYPES
from sync.values import Place, Record

# The change-index columns a record type's index_row may set; the rest stay empty.
INDEX_COLUMNS = (
    "change_tx",
    "booth_id",
    "block_id",
    "district_id",
    "unit_id",
    "audience",
    "owner_id",
    "removed",
)


class BatchWriter:
    """The BatchStore's writes: `save()` keeps a record in memory, `flush()` writes them."""

    def save(self, record: Record, changed, actor, hlc, place: Place, action):
        key = (record.entity, record.id)
        prefetch.guard(self, record, key)
        self._touch(key)
        record_type = RECORD_TYPES[record.entity]
        if record.created:
            for name, default in record_type.defaults.items():
                record.values.setdefault(name, copy.copy(default))
            self.created.add(key)
            self.stamps[key] = {
                "created_at": self.now,
                "updated_at": self.now,
                "created_by": actor.user_id,
            }
            record.created_by = actor.user_id
            record.created = False
        else:
            self.stamps[key]["updated_at"] = self.now
        self.records[key] = record
        self.dirty[key] = None
        self.place_of_record[key] = place
        if record_type.booth_scoped:
            record.values["booth_id"] = place.id
        if record.entity == "member":
            self._count(record)
        self.audit.append(
            {
                "action": action,
                "entity": record.entity,
                "record_id": record.id,
                "version": record.version,
                "fields": sorted(changed),
            }
        )

    @property
    def tx(self):
        if self._tx is None:
            self._tx = current_tx()
        return self._tx

    def flush(self):
        """Write every change of the batch: records, change index, conflicts, audit."""
        if not self.dirty and not self.conflicts:
            return
        index_rows = []
        for entity in ENTITY_ORDER:
            keys = [k for k in self.dirty if k[0] == entity]
            inserts = [self._row(k) for k in keys if k in self.created]
            updates = [self._row(k) for k in keys if k not in self.created]
            table = RECORD_TYPES[entity].model.__table__
            if entity == "member":
                self._release_epics(keys)
            # Updates first: a row of this batch may give up what a new row then takes.
            if updates:
                params = [{**row, "_id": row.pop("id")} for row in updates]
                db.session.execute(update(table).where(table.c.id == bindparam("_id")), params)
            if inserts:
                db.session.execute(insert(table), inserts)
            for k in keys:
                index_rows.append(self._index_row(entity, SimpleNamespace(**self._row(k))))
        if self.conflicts:
            db.session.execute(insert(Conflict.__table__), self.conflicts)
            for row in self.conflicts:
                index_rows.append(self._index_row("conflict", SimpleNamespace(**row)))
        # Notes and conflicts follow a record that changed scope; old scopes get `removed`.
        self._write_index(*visibility.reindexed(self, index_rows))
        self._write_serials()
        self._write_audit()

    def _row(self, key):
        record = self.records[key]
        record_type = RECORD_TYPES[key[0]]
        row = {name: record.values.get(name) for name in record_type.value_columns}
        row.update(
            self.stamps[key],
            id=record.id,
            version=record.version,
            deleted=record.deleted,
            field_meta={k: list(v) for k, v in record.meta.items()},
        )
        if record_type.booth_scoped:
            place = self.place_of_record.get(key) or self.place(record.values["booth_id"])
            row["block_id"], row["district_id"] = place.block_id, place.district_id
        return row

    def _index_row(self, entity, row):
        """Its row in the change index: who pulls it (its record type's index_row)."""
        return {
            "entity": entity,
            "record_id": row.id,
            **dict.fromkeys(INDEX_COLUMNS),
            "change_tx": self.tx,
            "removed": False,
            **RECORD_TYPES[entity].index_row(self, row),
        }

    def _write_index(self, rows, moved):
        statement = upsert()(RecordChange)
        statement = statement.on_conflict_do_update(
            index_elements=["entity", "record_id", "scope_key"],
            set_={c: getattr(statement.excluded, c) for c in INDEX_COLUMNS},
        )
        db.session.execute(statement, rows)
        if moved:
            db.session.execute(
                update(RecordChange.__table__)
                .where(
                    RecordChange.entity == bindparam("e"),
                    RecordChange.record_id == bindparam("r"),
                    RecordChange.scope_key == bindparam("s"),
                )
                .values(removed=True, change_tx=self.tx),
                moved,
            )

    def _write_audit(self):
        rows = [
            {
                **entry,
                "at": self.now,
                "user_id": self.actor.user.id,
                "device_id": self.actor.device_id,
                "address": self.address,
            }
            for entry in self.audit
        ]
        if rows:
            db.session.execute(insert(AuditEntry.__table__), rows)
