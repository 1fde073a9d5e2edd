"""A push's reads: records (turned into the engine's values), places and authors, each
read once per batch and kept in the BatchStore."""

from types import SimpleNamespace

from sqlalchemy import select

from server.accounts.models import Device
from server.extensions import db
from server.geo.models import Unit
from server.serialize import to_record
from server.syncing.registry import MODELS, RECORD_TYPES
from sync.fields import UUID_RE, in_int_range
from sync.values import Place, Record

STAMPS = ("created_at", "updated_at", "created_by")


def to_engine(entity: str, obj) -> Record:
    values = {name: getattr(obj, name) for name in RECORD_TYPES[entity].value_columns}
    return Record(
        entity, obj.id, obj.version, values, dict(obj.field_meta or {}), obj.deleted, obj.created_by
    )


def place_of(unit: Unit) -> Place:
    return Place(unit.id, unit.type, unit.block_id, unit.district_id, unit.code)


def is_id(value) -> bool:
    return isinstance(value, str) and UUID_RE.match(value.lower()) is not None


class RecordReader:
    """The BatchStore's reads. Records go through the engine's `Record`: the ORM objects
    read are expunged and never used again."""

    def _fetch(self, entity, ids):
        """Read records without a lock: prepare() locked what the batch writes, and
        save() locks anything else before it is written."""
        wanted = [i for i in ids if (entity, i) not in self.records]
        if wanted:
            self._refetch(entity, wanted)

    def _refetch(self, entity, ids):
        model = MODELS[entity]
        query = select(model).where(model.id.in_(list(ids)))
        for obj in db.session.execute(query.execution_options(populate_existing=True)).scalars():
            self._remember(entity, obj)
        for i in ids:
            self.records.setdefault((entity, i), None)

    def _remember(self, entity, obj):
        key = (entity, obj.id)
        record = to_engine(entity, obj)
        self.records[key] = record
        # A conflict's block and district are not among its values but must be kept.
        stamps = STAMPS + (("block_id", "district_id") if entity == "conflict" else ())
        self.stamps[key] = {name: getattr(obj, name) for name in stamps}
        self.db_versions[key] = obj.version
        if entity == "member":
            self._remember_member(record)
        db.session.expunge(obj)
        return record

    def _fetch_places(self, unit_ids):
        # Raw pushed values may reach here: only ids a column can hold are looked up (a
        # bool is no id, and True == 1 as a dict key: it must never be stored either).
        wanted = [u for u in unit_ids if in_int_range(u) and u not in self.places]
        if wanted:
            for unit in db.session.execute(select(Unit).where(Unit.id.in_(wanted))).scalars():
                self.places[unit.id] = place_of(unit)
            for u in wanted:
                self.places.setdefault(u, None)

    def load(self, entity, record_id):
        key = (entity, record_id)
        if key not in self.records:
            self._fetch(entity, [record_id])
        self._touch(key)
        return self.records[key]

    def peek(self, entity, record_id):
        """The record as the batch sees it now, read without locking it when the batch has
        not loaded it (a visibility test must not take locks a push's prefetch did not)."""
        key = (entity, record_id)
        if key in self.records:
            return self.records[key]
        if key not in self.peeked:
            obj = db.session.get(MODELS[entity], record_id)
            self.peeked[key] = None if obj is None else to_engine(entity, obj)
            if obj is not None:
                db.session.expunge(obj)
        return self.peeked[key]

    def view(self, entity, record_id, viewer):
        """The wire form of a record as this batch sees it (None when there is none)."""
        key = (entity, record_id)
        if key not in self.records:
            self._fetch(entity, [record_id])
        record = self.records.get(key)
        if record is None:
            return None
        fields = {
            **record.values,
            **self.stamps[key],
            "id": record.id,
            "version": record.version,
            "deleted": record.deleted,
        }
        if RECORD_TYPES[entity].booth_scoped:
            # Masking needs the booth's block (server/masking.py).
            fields["block_id"] = self.place(record.values["booth_id"]).block_id
        return to_record(entity, SimpleNamespace(**fields), viewer)

    def place(self, unit_id):
        if not in_int_range(unit_id):
            return None
        if unit_id not in self.places:
            self._fetch_places([unit_id])
        return self.places[unit_id]

    def author_of(self, hlc):
        device_id = hlc.split("-", 2)[2]
        if device_id not in self.authors:
            self.authors[device_id] = db.session.scalar(
                select(Device.user_id).where(Device.id == device_id)
            )
        return self.authors[device_id]
