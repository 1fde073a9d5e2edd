"""The sync engine's store, on SQLAlchemy: rows, locks, the change index and conflicts."""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from server.accounts.models import Device
from server.audit.services import log_change
from server.extensions import db
from server.geo.models import Unit
from server.grievances.models import Grievance, GrievanceNote, GrievanceSerial
from server.meetings.models import Meeting, Rsvp
from server.records import now_ms
from server.roster.models import Member
from server.syncing.models import Conflict, RecordChange, SyncCounter
from sync.engine import SENSITIVE_CATEGORIES, Place, Principal, Record

MODELS = {
    "member": Member,
    "grievance": Grievance,
    "grievance_note": GrievanceNote,
    "meeting": Meeting,
    "rsvp": Rsvp,
    "conflict": Conflict,
}
# Columns that are not the record's values (the engine sees everything else).
META_COLUMNS = {
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
IST = timedelta(hours=5, minutes=30)


def is_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def columns(model) -> list[str]:
    return [c.key for c in model.__table__.columns if c.key not in META_COLUMNS]


def to_engine(entity: str, obj) -> Record:
    values = {name: getattr(obj, name) for name in columns(MODELS[entity])}
    return Record(
        entity, obj.id, obj.version, values, dict(obj.field_meta or {}), obj.deleted, obj.created_by
    )


def current_tx() -> int:
    """The id the change index orders this transaction's writes by.

    PostgreSQL: the transaction's own id, so no global lock is taken; a pull reads only
    below the oldest transaction still running (see pull_horizon). SQLite runs one
    writer at a time, so a counter bumped inside the write transaction is as good.
    """
    if is_postgres():
        return db.session.execute(text("SELECT pg_current_xact_id()::text::bigint")).scalar_one()
    db.session.execute(sqlite_insert(SyncCounter).values(id=1, value=0).on_conflict_do_nothing())
    db.session.execute(
        update(SyncCounter).where(SyncCounter.id == 1).values(value=SyncCounter.value + 1)
    )
    return db.session.execute(select(SyncCounter.value).where(SyncCounter.id == 1)).scalar_one()


def pull_horizon() -> int:
    """Every change below this id is committed (or rolled back) and visible to this read.

    PostgreSQL: the lowest transaction still running *in this database* (or the next id
    to be given). Not the snapshot's xmin: that is cluster-wide, so a long transaction in
    any other database would stall every pull. Three statements, in this order, keep it
    safe under READ COMMITTED: (1) a snapshot; (2) which of its running transactions
    belong to this database — any that finished in between is committed before (3) the
    page is read, so the page's own fresh snapshot sees it.
    """
    if not is_postgres():
        value = db.session.execute(select(SyncCounter.value).where(SyncCounter.id == 1)).scalar()
        return (value or 0) + 1
    snapshot = db.session.execute(text("SELECT pg_current_snapshot()::text")).scalar_one()
    _xmin, xmax, running = snapshot.split(":")
    running = [int(x) for x in running.split(",") if x]
    if not running:
        return int(xmax)
    ours = set(
        db.session.execute(
            text(
                "SELECT backend_xid::text::bigint FROM pg_stat_activity"
                " WHERE datname = current_database() AND backend_xid IS NOT NULL"
            )
        ).scalars()
    )
    return min([x for x in running if x % 2**32 in ours] + [int(xmax)])


class SqlStore:
    """One store per push: one transaction, one change id."""

    def __init__(self, actor):
        self.actor = actor  # server.auth.Actor: the user and device behind the Principal
        self._tx = None
        self._places = {}

    @property
    def tx(self):
        if self._tx is None:
            self._tx = current_tx()
        return self._tx

    # ---- reads

    def load(self, entity, record_id):
        query = select(MODELS[entity]).where(MODELS[entity].id == record_id)
        if is_postgres():
            query = query.with_for_update()
        obj = db.session.execute(query).scalar_one_or_none()
        return None if obj is None else to_engine(entity, obj)

    def obj(self, record: Record):
        return db.session.get(MODELS[record.entity], record.id)

    def place(self, unit_id):
        if unit_id not in self._places:
            unit = db.session.get(Unit, unit_id)
            self._places[unit_id] = None if unit is None else place_of(unit)
        return self._places[unit_id]

    def lock_booth(self, booth_id):
        # NO KEY UPDATE serialises squad counts per booth without blocking foreign-key checks.
        if is_postgres():
            db.session.execute(
                text("SELECT id FROM units WHERE id = :id FOR NO KEY UPDATE"), {"id": booth_id}
            )

    def lock_epic(self, epic):
        if is_postgres():
            db.session.execute(
                text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": "epic:" + epic}
            )

    def active_count(self, booth_id, exclude_id):
        return db.session.execute(
            select(func.count())
            .select_from(Member)
            .where(
                Member.booth_id == booth_id,
                Member.deleted.is_(False),
                Member.status.in_(("pending", "approved")),
                Member.id != exclude_id,
            )
        ).scalar_one()

    def epic_holder(self, epic, exclude_id):
        booth_id = db.session.execute(
            select(Member.booth_id).where(
                Member.epic == epic, Member.deleted.is_(False), Member.id != exclude_id
            )
        ).scalar()
        return None if booth_id is None else self.place(booth_id)

    def earliest_waitlisted(self, booth_id):
        query = (
            select(Member)
            .where(
                Member.booth_id == booth_id,
                Member.deleted.is_(False),
                Member.status == "waitlisted",
            )
            .order_by(Member.waitlisted_at, Member.id)
            .limit(1)
        )
        if is_postgres():
            query = query.with_for_update()
        obj = db.session.execute(query).scalar_one_or_none()
        return None if obj is None else to_engine("member", obj)

    def author_of(self, hlc):
        device_id = hlc.split("-", 2)[2]
        return db.session.execute(select(Device.user_id).where(Device.id == device_id)).scalar()

    def find_rsvp(self, meeting_id, user_id):
        obj = db.session.execute(
            select(Rsvp).where(Rsvp.meeting_id == meeting_id, Rsvp.user_id == user_id)
        ).scalar_one_or_none()
        return None if obj is None else to_engine("rsvp", obj)

    def meeting_reaches(self, meeting, actor: Principal):
        from server.meetings.audience import units_reaching

        user = self.actor.user
        return (
            meeting.values["unit_id"] in units_reaching(user)
            and user.role in meeting.values["audience_roles"]
        ) or meeting.created_by == user.id

    # ---- writes

    def next_ref_no(self, district_id, now):
        """A readable, unique reference: district code, year (IST) and a serial."""
        year = (datetime.fromtimestamp(now / 1000, UTC) + IST).year
        insert = pg_insert if is_postgres() else sqlite_insert
        db.session.execute(
            insert(GrievanceSerial)
            .values(district_id=district_id, year=year, last=0)
            .on_conflict_do_nothing()
        )
        query = select(GrievanceSerial).where(
            GrievanceSerial.district_id == district_id, GrievanceSerial.year == year
        )
        serial = db.session.execute(query.with_for_update()).scalar_one()
        serial.last += 1
        code = self.place(district_id).code
        return f"{code}-{year}-{serial.last:06d}"

    def save(self, record: Record, changed, actor, hlc, place: Place, action):
        model = MODELS[record.entity]
        now = now_ms()
        if record.created:
            obj = model(
                id=record.id,
                version=record.version,
                created_by=actor.user_id,
                created_at=now,
                updated_at=now,
                deleted=False,
            )
            db.session.add(obj)
        else:
            obj = self.obj(record)
            obj.updated_at = now
        old_scope = scope_key(record.entity, obj) if not record.created else None
        for name in changed:
            if name == "deleted":
                obj.deleted = record.deleted
            else:
                setattr(obj, name, record.values[name])
        obj.version = record.version
        obj.field_meta = {k: list(v) for k, v in record.meta.items()}
        self._set_scope(record.entity, obj, place)
        db.session.flush()
        self._index(record.entity, obj, old_scope)
        log_change(self.actor, action, record.entity, record.id, record.version, changed)
        record.created = False

    def _set_scope(self, entity, obj, place):
        if entity in ("member", "grievance", "grievance_note"):
            obj.booth_id, obj.block_id, obj.district_id = (
                place.id,
                place.block_id,
                place.district_id,
            )

    def _index(self, entity, obj, old_scope):
        """Point the change index at this write; leave `removed` behind a scope it left."""
        key = scope_key(entity, obj)
        row = self._index_row(entity, obj, key)
        db.session.merge(row)
        if old_scope and old_scope != key:
            gone = db.session.get(RecordChange, (entity, obj.id, old_scope))
            if gone is not None:
                gone.removed = True
                gone.change_tx = self.tx

    def _index_row(self, entity, obj, key):
        row = RecordChange(
            entity=entity, record_id=obj.id, scope_key=key, change_tx=self.tx, removed=False
        )
        if entity in ("member", "grievance", "grievance_note"):
            row.booth_id, row.block_id, row.district_id = (
                obj.booth_id,
                obj.block_id,
                obj.district_id,
            )
            if entity != "member" and self._sensitive(entity, obj):
                # Only the booth and the Connect Centre see complaints about office-bearers.
                row.block_id = row.district_id = None
        elif entity == "conflict":
            row.booth_id, row.block_id, row.district_id = (
                obj.booth_id,
                obj.block_id,
                obj.district_id,
            )
            row.unit_id, row.owner_id = obj.unit_id, obj.author_id
        else:
            meeting = obj if entity == "meeting" else db.session.get(Meeting, obj.meeting_id)
            place = self.place(meeting.unit_id)
            row.unit_id = place.id
            row.block_id = place.id if place.type == "block" else place.block_id
            row.district_id = place.id if place.type == "district" else place.district_id
            if entity == "meeting":
                row.audience = "," + ",".join(meeting.audience_roles) + ","
            else:
                row.owner_id = obj.user_id
        return row

    def _sensitive(self, entity, obj):
        grievance = obj if entity == "grievance" else db.session.get(Grievance, obj.grievance_id)
        return grievance.category in SENSITIVE_CATEGORIES

    def add_conflict(self, about, place, kind, lost, kept, lost_hlc, author_id, actor, hlc):
        conflict = Conflict(
            id=str(uuid.uuid4()),
            version=1,
            created_by=actor.user_id,
            created_at=now_ms(),
            updated_at=now_ms(),
            deleted=False,
            field_meta={},
            entity=about.entity,
            record_id=about.id,
            kind=kind,
            lost=lost,
            kept=kept,
            lost_hlc=lost_hlc,
            author_id=author_id,
            resolved=False,
            booth_id=place.id if place.type == "booth" else None,
            unit_id=None if place.type == "booth" else place.id,
            block_id=place.id if place.type == "block" else place.block_id,
            district_id=place.id if place.type == "district" else place.district_id,
        )
        db.session.add(conflict)
        db.session.flush()
        self._index("conflict", conflict, None)
        log_change(self.actor, "conflict", about.entity, about.id, about.version, sorted(lost))

    def meeting_changed(self, meeting, kind, actor):
        from server.meetings import alerts

        alerts.meeting_changed(self.obj(meeting), kind, self.actor)


def place_of(unit: Unit) -> Place:
    return Place(unit.id, unit.type, unit.block_id, unit.district_id, unit.code)


def scope_key(entity, obj) -> str:
    if entity in ("member", "grievance", "grievance_note"):
        return f"b{obj.booth_id}"
    if entity == "conflict":
        return f"b{obj.booth_id}" if obj.booth_id else f"u{obj.unit_id}"
    if entity == "meeting":
        return f"u{obj.unit_id}"
    return "u"  # an RSVP never changes scope
