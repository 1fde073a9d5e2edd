"""The sync engine's store, on SQLAlchemy: a push's reads, locks and writes in a few statements.

A push of 100 mutations must not cost 100 × a dozen round trips. So a `BatchStore`
prefetches every record, booth, squad count and EPIC holder the batch names (locking
them), lets the engine decide in memory, and writes everything at the end in bulk
statements. Each mutation runs between `begin()` and `commit()` / `rollback()`: a
rejected one leaves no trace in memory, so nothing of it is written.
"""

import copy
import re
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import bindparam, false, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from server.accounts.models import Device, User
from server.audit.models import AuditEntry
from server.audit.services import client_address
from server.extensions import db
from server.geo.models import Unit
from server.grievances.models import Grievance, GrievanceNote, GrievanceSerial
from server.meetings.models import Meeting, Rsvp
from server.records import now_ms
from server.roster.models import Member
from server.serialize import to_record
from server.syncing import locks, prefetch, visibility
from server.syncing.locks import BOOTH, EPIC, SERIAL, LockLedger
from server.syncing.models import Conflict, RecordChange, SyncCounter
from sync.engine import ACTIVE
from sync.fields import EPIC_RE, UUID_RE, in_int_range
from sync.values import Place, Record

MODELS = {
    "member": Member,
    "grievance": Grievance,
    "grievance_note": GrievanceNote,
    "meeting": Meeting,
    "rsvp": Rsvp,
    "conflict": Conflict,
}
# Insert order: parents before children.
ENTITY_ORDER = ("member", "grievance", "grievance_note", "meeting", "rsvp", "conflict")
BOOTH_SCOPED = ("member", "grievance", "grievance_note")
STAMPS = ("created_at", "updated_at", "created_by")
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


def upsert():
    return pg_insert if is_postgres() else sqlite_insert


def columns(model) -> list[str]:
    return [c.key for c in model.__table__.columns if c.key not in META_COLUMNS]


VALUE_COLUMNS = {entity: columns(model) for entity, model in MODELS.items()}


def column_default(column):
    """A column's Python-side default (the bulk insert does not run the ORM's)."""
    if column.default is None:
        return None
    arg = column.default.arg
    return arg(None) if callable(arg) else arg


DEFAULTS = {
    entity: {
        c.key: column_default(c) for c in model.__table__.columns if c.key in VALUE_COLUMNS[entity]
    }
    for entity, model in MODELS.items()
}


def to_engine(entity: str, obj) -> Record:
    values = {name: getattr(obj, name) for name in VALUE_COLUMNS[entity]}
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


def place_of(unit: Unit) -> Place:
    return Place(unit.id, unit.type, unit.block_id, unit.district_id, unit.code)


def normalised_epic(value):
    """An EPIC as the field type would store it, or None when it cannot be one."""
    epic = re.sub(r"\s", "", value).upper() if isinstance(value, str) else None
    return epic if epic and EPIC_RE.match(epic) else None


def is_id(value) -> bool:
    return isinstance(value, str) and UUID_RE.match(value.lower()) is not None


class BatchStore:
    """The engine's Store for one push: one transaction, one change id."""

    def __init__(self, actor):
        self.actor = actor  # server.auth.Actor: the user and device behind the Principal
        self.now = now_ms()
        self._tx = None
        self.records: dict[tuple, Record | None] = {}
        self.stamps: dict[tuple, dict] = {}
        self.places: dict[int, Place | None] = {}
        self.place_of_record: dict[tuple, Place] = {}
        self.dirty: dict[tuple, None] = {}  # insertion-ordered set
        self.created: set[tuple] = set()
        self.audit: list[dict] = []
        self.conflicts: list[dict] = []
        self.locked_booths: set[int] = set()
        self.locked_records: set[tuple] = set()  # other than members (their booth guards them)
        self.ledger = LockLedger()
        self.db_versions: dict[tuple, int] = {}  # version as read from the database
        self.guarded: set[str] = set()  # members read while their booth was locked
        self.active: dict[int, int] = {}  # booth -> pending+approved members, as of now
        self.member_state: dict[str, tuple] = {}  # id -> (booth, active, live epic)
        self.db_member_state: dict[str, tuple] = {}
        self.epic_owner: dict[str, str | None] = {}  # epic -> live member id
        self.serials: dict[tuple, list] = {}  # (district, year) -> [row id, last]
        self.authors: dict[str, int | None] = {}
        self.reaching = None
        self.user_places: dict[int, Place | None] = {}  # user id -> scope unit
        self._undo = None

    # ------------------------------------------------------------ per mutation

    def begin(self):
        """Remember enough to forget this mutation if it is rejected."""
        self._undo = {
            "touched": {},
            "dirty": dict(self.dirty),
            "created": set(self.created),
            "audit": len(self.audit),
            "conflicts": len(self.conflicts),
            "active": dict(self.active),
            "member_state": dict(self.member_state),
            "epic_owner": dict(self.epic_owner),
            "serials": {k: list(v) for k, v in self.serials.items()},
            "stamps": {},
            "places": dict(self.place_of_record),
        }

    def commit(self):
        self._undo = None

    def rollback(self):
        undo = self._undo
        for key, before in undo["touched"].items():
            self.records[key] = before
            if key in undo["stamps"]:
                self.stamps[key] = undo["stamps"][key]
        self.dirty, self.created = undo["dirty"], undo["created"]
        del self.audit[undo["audit"] :]
        del self.conflicts[undo["conflicts"] :]
        self.active, self.member_state = undo["active"], undo["member_state"]
        self.epic_owner, self.serials = undo["epic_owner"], undo["serials"]
        self.place_of_record = undo["places"]
        self._undo = None

    def _touch(self, key):
        if self._undo is not None and key not in self._undo["touched"]:
            record = self.records.get(key)
            # One level deep is enough: the engine assigns new values, never edits them in place.
            self._undo["touched"][key] = record and replace(
                record, values=dict(record.values), meta=dict(record.meta)
            )
            if key in self.stamps:
                self._undo["stamps"][key] = dict(self.stamps[key])

    # ------------------------------------------------------------ prefetch

    def prepare(self, mutations):
        """Load and lock everything the batch is likely to touch (server/syncing/prefetch.py)."""
        prefetch.prepare(self, mutations)

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
            if obj.booth_id in self.locked_booths:
                self.guarded.add(obj.id)
            else:
                self.guarded.discard(obj.id)
            state = self._state_of(record)
            self.member_state[obj.id] = self.db_member_state[obj.id] = state
        # The ORM object is not used again: everything goes through the records.
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

    def _lock_booths(self, booths):
        """Lock booth rows (ascending, in the lock order) and count their squads.

        A booth's lock serialises its squad count and guards its member rows: every write
        of a member happens under the lock of its booth (both booths, for a move).
        """
        booths = sorted(b for b in booths if b not in self.locked_booths)
        if not booths:
            return
        if is_postgres():
            self.ledger.take(BOOTH, booths)
            locks.booth_rows(db.session, booths)
        self.locked_booths.update(booths)
        counts = dict(
            db.session.execute(
                select(Member.booth_id, func.count())
                .where(
                    Member.booth_id.in_(booths),
                    Member.deleted.is_(False),
                    Member.status.in_(ACTIVE),
                )
                .group_by(Member.booth_id)
            ).all()
        )
        for booth in booths:
            # Members this batch already changed are counted as they are now, not as stored.
            count = counts.get(booth, 0)
            for member_id, now_state in self.member_state.items():
                before = self.db_member_state.get(member_id)
                count -= bool(before and before[0] == booth and before[1])
                count += bool(now_state[0] == booth and now_state[1])
            self.active[booth] = count

    def _lock_epics(self, epics):
        epics = sorted(e for e in epics if e not in self.epic_owner)
        if not epics:
            return
        if is_postgres():
            self.ledger.take(EPIC, epics)
            locks.epic_keys(db.session, epics)
        rows = db.session.execute(
            # `deleted = false`, as the partial unique index says it, so the index is used
            # (PostgreSQL does not match `deleted IS false` to the index's predicate).
            select(Member.epic, Member.id).where(Member.epic.in_(epics), Member.deleted == false())
        ).all()
        for epic in epics:
            self.epic_owner[epic] = None
        for epic, member_id in rows:
            if member_id not in self.member_state:  # this batch's view wins
                self.epic_owner[epic] = member_id
        for member_id, (_booth, _active, epic) in self.member_state.items():
            if epic in self.epic_owner:
                self.epic_owner[epic] = member_id

    # ------------------------------------------------------------ the engine's reads

    def load(self, entity, record_id):
        key = (entity, record_id)
        if key not in self.records:
            self._fetch(entity, [record_id])
        self._touch(key)
        return self.records[key]

    def peek(self, entity, record_id):
        """The record as it stands, read without a lock (for visibility tests)."""
        return visibility.current(self, entity, record_id)

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
        if entity in BOOTH_SCOPED:
            # Masking needs the booth's block (server/masking.py).
            fields["block_id"] = self.place(record.values["booth_id"]).block_id
        return to_record(entity, SimpleNamespace(**fields), viewer)

    def place(self, unit_id):
        if not in_int_range(unit_id):
            return None
        if unit_id not in self.places:
            self._fetch_places([unit_id])
        return self.places[unit_id]

    def lock_booth(self, booth_id):
        self._lock_booths([booth_id])

    def lock_epic(self, epic):
        self._lock_epics([epic])

    def active_count(self, booth_id, exclude_id):
        self._lock_booths([booth_id])
        state = self.member_state.get(exclude_id)
        return self.active[booth_id] - bool(state and state[0] == booth_id and state[1])

    def epic_holder(self, epic, exclude_id):
        self._lock_epics([epic])
        owner = self.epic_owner.get(epic)
        if owner is None or owner == exclude_id:
            return None
        booth = (
            self.member_state[owner][0]
            if owner in self.member_state
            else db.session.scalar(select(Member.booth_id).where(Member.id == owner))
        )
        return self.place(booth)

    def earliest_waitlisted(self, booth_id):
        query = (
            select(Member.id)
            .where(
                Member.booth_id == booth_id,
                Member.deleted.is_(False),
                Member.status == "waitlisted",
            )
            .order_by(Member.waitlisted_at, Member.id)
            .limit(50)
        )
        candidates = set(db.session.execute(query).scalars())
        candidates |= {k[1] for k in self.dirty if k[0] == "member"}
        self._fetch("member", candidates)
        waiting = [
            r
            for r in (self.records.get(("member", c)) for c in candidates)
            if r is not None
            and not r.deleted
            and r.values["booth_id"] == booth_id
            and r.values["status"] == "waitlisted"
        ]
        if not waiting:
            return None
        first = min(waiting, key=lambda r: (r.values.get("waitlisted_at") or 0, r.id))
        return self.load("member", first.id)

    def author_of(self, hlc):
        device_id = hlc.split("-", 2)[2]
        if device_id not in self.authors:
            self.authors[device_id] = db.session.scalar(
                select(Device.user_id).where(Device.id == device_id)
            )
        return self.authors[device_id]

    def find_rsvp(self, meeting_id, user_id):
        for key, record in self.records.items():
            if (
                key[0] == "rsvp"
                and record is not None
                and record.values["meeting_id"] == meeting_id
                and record.values["user_id"] == user_id
            ):
                return self.load("rsvp", record.id)
        found = db.session.scalar(
            select(Rsvp.id).where(Rsvp.meeting_id == meeting_id, Rsvp.user_id == user_id)
        )
        return None if found is None else self.load("rsvp", found)

    def meeting_reaches(self, meeting, actor):
        from server.meetings.audience import units_reaching

        user = self.actor.user
        if self.reaching is None:
            self.reaching = set(units_reaching(user))
        return (
            meeting.values["unit_id"] in self.reaching
            and user.role in meeting.values["audience_roles"]
        ) or meeting.created_by == user.id

    def user_place(self, user_id):
        """A person's scope unit (a meeting's organiser), read once per batch."""
        if user_id not in self.user_places:
            unit_id = db.session.scalar(select(User.unit_id).where(User.id == user_id))
            self.user_places[user_id] = None if unit_id is None else self.place(unit_id)
        return self.user_places[user_id]

    # ------------------------------------------------------------ the engine's writes

    def next_ref_no(self, district_id, now):
        """A readable, unique reference: district code, year (IST) and a serial."""
        year = (datetime.fromtimestamp(now / 1000, UTC) + IST).year
        key = (district_id, year)
        if key not in self.serials:
            db.session.execute(
                upsert()(GrievanceSerial)
                .values(district_id=district_id, year=year, last=0)
                .on_conflict_do_nothing()
            )
            query = select(GrievanceSerial.id, GrievanceSerial.last).where(
                GrievanceSerial.district_id == district_id, GrievanceSerial.year == year
            )
            if is_postgres():
                self.ledger.take(SERIAL, [key])
                query = query.with_for_update(key_share=True)
            self.serials[key] = list(db.session.execute(query).one())
        self.serials[key][1] += 1
        return f"{self.place(district_id).code}-{year}-{self.serials[key][1]:06d}"

    def save(self, record: Record, changed, actor, hlc, place: Place, action):
        key = (record.entity, record.id)
        prefetch.guard(self, record, key)
        self._touch(key)
        if record.created:
            for name, default in DEFAULTS[record.entity].items():
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
        if record.entity in BOOTH_SCOPED:
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

    def _state_of(self, record):
        live = not record.deleted
        return (
            record.values["booth_id"],
            live and record.values["status"] in ACTIVE,
            record.values.get("epic") if live else None,
        )

    def _count(self, record):
        """Keep squad counts and EPIC holders in step with a member just written."""
        before = self.member_state.get(record.id)
        after = self._state_of(record)
        self.member_state[record.id] = after
        if before and before[1] and before[0] in self.active:
            self.active[before[0]] -= 1
        if after[1] and after[0] in self.active:
            self.active[after[0]] += 1
        if before and before[2] and self.epic_owner.get(before[2]) == record.id:
            self.epic_owner[before[2]] = None
        if after[2] and after[2] in self.epic_owner:
            self.epic_owner[after[2]] = record.id

    def add_conflict(self, about, place, kind, lost, kept, lost_hlc, author_id, actor, hlc):
        self.conflicts.append(
            {
                "id": str(uuid.uuid4()),
                "version": 1,
                "created_by": actor.user_id,
                "created_at": self.now,
                "updated_at": self.now,
                "deleted": False,
                "field_meta": {},
                "entity": about.entity,
                "record_id": about.id,
                "kind": kind,
                "lost": lost,
                "kept": kept,
                "lost_hlc": lost_hlc,
                "author_id": author_id,
                "resolved": False,
                "booth_id": place.id if place.type == "booth" else None,
                "unit_id": None if place.type == "booth" else place.id,
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
                    self._principal_stub(),
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

    def _principal_stub(self):
        return SimpleNamespace(user_id=self.actor.user.id)

    # ------------------------------------------------------------ writing the batch

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
            table = MODELS[entity].__table__
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
        for row_id, last in self.serials.values():
            db.session.execute(
                update(GrievanceSerial).where(GrievanceSerial.id == row_id).values(last=last)
            )
        self._write_audit()

    def _release_epics(self, keys):
        """Clear the stored EPIC of members that give theirs up, before any row takes one:
        the unique index checks each row as it is written, not the batch as a whole."""
        giving_up = [
            k[1]
            for k in keys
            if k not in self.created
            and (self.db_member_state.get(k[1]) or (None, None, None))[2]
            and self.db_member_state[k[1]][2] != self.member_state[k[1]][2]
        ]
        if giving_up:
            db.session.execute(update(Member).where(Member.id.in_(giving_up)).values(epic=None))

    def _row(self, key):
        record = self.records[key]
        row = {name: record.values.get(name) for name in VALUE_COLUMNS[key[0]]}
        row.update(
            self.stamps[key],
            id=record.id,
            version=record.version,
            deleted=record.deleted,
            field_meta={k: list(v) for k, v in record.meta.items()},
        )
        if key[0] in BOOTH_SCOPED:
            place = self.place_of_record.get(key) or self.place(record.values["booth_id"])
            row["block_id"], row["district_id"] = place.block_id, place.district_id
        return row

    def _index_row(self, entity, obj):
        """Its row in the change index: who pulls it (server/syncing/visibility.py)."""
        return visibility.index_row(self, entity, obj, self.tx)

    def _meeting(self, meeting_id):
        record = self.load("meeting", meeting_id)
        return SimpleNamespace(
            unit_id=record.values["unit_id"], audience_roles=record.values["audience_roles"]
        )

    def _write_index(self, rows, moved):
        statement = upsert()(RecordChange)
        columns = (
            "change_tx",
            "booth_id",
            "block_id",
            "district_id",
            "unit_id",
            "audience",
            "owner_id",
            "removed",
        )
        statement = statement.on_conflict_do_update(
            index_elements=["entity", "record_id", "scope_key"],
            set_={c: getattr(statement.excluded, c) for c in columns},
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
        address = client_address()
        user_id = self.actor.user.id
        device_id = self.actor.device_id
        rows = [
            {
                **entry,
                "at": self.now,
                "user_id": user_id,
                "device_id": device_id,
                "address": address,
            }
            for entry in self.audit
        ]
        if rows:
            db.session.execute(insert(AuditEntry.__table__), rows)
