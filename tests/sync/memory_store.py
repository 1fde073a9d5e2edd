"""The engine's Store (sync/store.py) over plain dicts: what server/syncing/store.py's
BatchStore answers from the database, answered from a `MemoryDatabase`, so the rules of
sync/ are tested without one.

A `MemoryDatabase` holds what the server would store: units, users, devices, records
and the order in which records last changed (the change index of a pull). A
`MemoryStore` is the engine's view of it for one push; each mutation runs between
`begin()` and `commit()` / `rollback()`, and a rejected one leaves no trace.
"""

import copy
import itertools
import types
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sync.fields import in_int_range
from sync.scope import SENSITIVE_CATEGORIES
from sync.values import Place, Principal, Record

ACTIVE = ("pending", "approved")
IST_MS = 19_800_000  # a grievance's reference number counts years in Indian time
# Values the database's columns default to when the engine leaves them unset.
DEFAULTS = {
    "member": {
        "phone": None,
        "epic": None,
        "skills": [],
        "consent": False,
        "notes": "",
        "status": "pending",
        "status_reason": "",
        "reviewed_by": None,
        "reviewed_at": None,
        "waitlisted_at": None,
    },
    "grievance": {"complainant_name": "", "complainant_phone": None, "against": ""},
    "meeting": {"agenda": "", "place": "", "online_url": "", "audience_roles": []},
    "grievance_note": {},
    "rsvp": {},
    "conflict": {},
}
# A scope unit's type by role (server/accounts/models.py says the same).
ROLE_UNIT_TYPE = {
    "volunteer": "booth",
    "block_president": "block",
    "district_president": "district",
    "connect_centre": "state",
    "admin": "state",
}
# Roles whose meetings of an assembly or Lok Sabha seat reach them through their booths
# (server/meetings/audience.py), with the booth's column naming their scope unit.
SEAT_ROLE_COLUMN = {
    "volunteer": "id",
    "block_president": "block_id",
    "district_president": "district_id",
}


@dataclass
class Unit:
    place: Place
    parent_id: int | None
    assembly_id: int | None = None


class MemoryDatabase:
    """Everything the server would keep, in dicts."""

    def __init__(self):
        self.units: dict[int, Unit] = {}
        self.users: dict[int, dict] = {}  # id -> role, unit_id, scope_version, name
        self.devices: dict[str, dict] = {}  # id -> user_id, registered_at, last_seq
        self.records: dict[tuple, Record] = {}
        self.stamps: dict[tuple, dict] = {}  # created_at, updated_at
        self.changed: dict[tuple, int] = {}  # record -> the change id of its last write
        # A member's or grievance's scope: (booth, restricted, owner); and the scopes a
        # record (or a note or conflict record attached to it) has left, with when.
        self.scopes: dict[tuple, tuple] = {}
        self.left: dict[tuple, dict] = {}
        self.serials: dict[tuple, int] = {}  # (district, year) -> last serial
        self.tx = 0
        self._ids = itertools.count(1)
        self._user_ids = itertools.count(1)
        self._uuids = itertools.count(1)

    # ------------------------------------------------------------ the world

    def add_unit(self, kind, code, parent=None, assembly=None) -> Place:
        unit_id = next(self._ids)
        up = self.units[parent.id].place if parent else None
        block = unit_id if kind == "block" else (up.block_id if up else None)
        if up is not None and up.type == "block":
            block = up.id
        district = up.id if up is not None and up.type == "district" else None
        if district is None and up is not None:
            district = up.district_id
        if kind == "district":
            district = unit_id
        place = Place(unit_id, kind, block, district, code)
        self.units[unit_id] = Unit(place, parent.id if parent else None, assembly and assembly.id)
        return place

    def geo(self):
        """The tree of tests/factories.py's geo(): d1 holds blocks k1 (booths b1, b2) and
        k2 (booth b3); d2 holds k3 (booth b4); all four booths are in one assembly seat."""
        g = types.SimpleNamespace()
        g.state = self.add_unit("state", "JH")
        g.ls = self.add_unit("lok_sabha", "LS-1", g.state)
        g.ac = self.add_unit("assembly", "AC-1", g.ls)
        g.d1 = self.add_unit("district", "RAN", g.state)
        g.d2 = self.add_unit("district", "DHN", g.state)
        g.k1 = self.add_unit("block", "RAN-KANKE", g.d1)
        g.k2 = self.add_unit("block", "RAN-ORMANJHI", g.d1)
        g.k3 = self.add_unit("block", "DHN-GOVINDPUR", g.d2)
        g.p1 = self.add_unit("panchayat", "P1", g.k1)
        g.p2 = self.add_unit("panchayat", "P2", g.k2)
        g.p3 = self.add_unit("panchayat", "P3", g.k3)
        panchayats = (("b1", g.p1), ("b2", g.p1), ("b3", g.p2), ("b4", g.p3))
        for n, (key, parent) in enumerate(panchayats, 1):
            setattr(g, key, self.add_unit("booth", f"AC-1-{n}", parent, assembly=g.ac))
        return g

    def add_user(self, role, unit: Place | None = None, name="") -> int:
        if unit is None:
            unit = next(u.place for u in self.units.values() if u.place.type == "state")
        assert unit.type == ROLE_UNIT_TYPE[role], (role, unit)
        user_id = next(self._user_ids)
        self.users[user_id] = {"role": role, "unit_id": unit.id, "scope_version": 1, "name": name}
        return user_id

    def add_device(self, user_id, device_id=None, registered_at=None) -> str:
        device_id = device_id or self.new_id()
        self.devices[device_id] = {
            "user_id": user_id,
            "registered_at": registered_at,
            "last_seq": 0,
        }
        return device_id

    def move_user(self, user_id, unit_id):
        """A new scope unit: the user's next pull starts again (`reset`)."""
        self.users[user_id]["unit_id"] = unit_id
        self.users[user_id]["scope_version"] += 1

    def new_id(self) -> str:
        """A record id the server makes (a conflict record's): the same on every run."""
        return str(uuid.UUID(int=next(self._uuids), version=4))

    def principal(self, device_id) -> Principal:
        device = self.devices[device_id]
        user = self.users[device["user_id"]]
        unit = self.units[user["unit_id"]].place
        return Principal(
            device["user_id"],
            user["role"],
            unit.id,
            unit.type,
            unit.district_id,
            unit.block_id,
            device_id,
            device["registered_at"],
        )

    def units_reaching(self, user_id) -> set:
        """The units whose meetings reach the user: their unit, its ancestors, and the
        seats that overlap it (server/meetings/audience.py's units_reaching)."""
        user = self.users[user_id]
        unit = self.units[user["unit_id"]]
        ids, current = set(), unit
        while current is not None:
            ids.add(current.place.id)
            current = self.units.get(current.parent_id)
        column = SEAT_ROLE_COLUMN.get(user["role"])
        if column is None or unit.place.type == "state":
            return ids
        for booth in self.units.values():
            if booth.place.type == "booth" and getattr(booth.place, column) == unit.place.id:
                if booth.assembly_id is not None:
                    ids.add(booth.assembly_id)
                    ids.add(self.units[booth.assembly_id].parent_id)
        return ids - {None}


class MemoryStore:
    """The engine's Store for one push: reads and writes go straight to the database, and
    each mutation's are journalled so that a rejection undoes them."""

    def __init__(self, database: MemoryDatabase, user_id: int, now: int):
        self.db = database
        self.user_id = user_id
        self.now = now
        database.tx += 1
        self.tx = database.tx
        self.created: set[tuple] = set()  # conflict records made by this push
        self._undo = None

    # ------------------------------------------------------------ per mutation

    def begin(self):
        self._undo = {"records": {}, "serials": dict(self.db.serials)}

    def commit(self):
        self._undo = None

    def rollback(self):
        db = self.db
        for key, (record, stamps, changed, scope, left) in self._undo["records"].items():
            for table, value in (
                (db.records, record),
                (db.stamps, stamps),
                (db.changed, changed),
                (db.scopes, scope),
                (db.left, left),
            ):
                if value is None:
                    table.pop(key, None)
                else:
                    table[key] = value
        db.serials = self._undo["serials"]
        self._undo = None

    def _touch(self, key):
        """Keep a copy of the record as it was before this mutation first reached it."""
        if self._undo is None or key in self._undo["records"]:
            return
        db = self.db
        self._undo["records"][key] = (
            copy.deepcopy(db.records.get(key)),
            copy.deepcopy(db.stamps.get(key)),
            db.changed.get(key),
            db.scopes.get(key),
            copy.copy(db.left.get(key)),
        )

    # ------------------------------------------------------------ reads

    def load(self, entity, record_id):
        self._touch((entity, record_id))
        return self.db.records.get((entity, record_id))

    def peek(self, entity, record_id):
        return self.db.records.get((entity, record_id))

    def place(self, unit_id):
        unit = self.db.units.get(unit_id) if in_int_range(unit_id) else None
        return unit.place if unit else None

    def lock_booth(self, booth_id):
        """Nothing runs beside this push: there is nothing to lock."""

    def lock_epic(self, epic):
        """Nothing runs beside this push: there is nothing to lock."""

    def live_members(self):
        return [
            r
            for (entity, _id), r in self.db.records.items()
            if entity == "member" and not r.deleted
        ]

    def active_count(self, booth_id, exclude_id):
        return sum(
            1
            for r in self.live_members()
            if r.values["booth_id"] == booth_id
            and r.values["status"] in ACTIVE
            and r.id != exclude_id
        )

    def epic_holder(self, epic, exclude_id):
        for r in self.live_members():
            if r.values.get("epic") == epic and r.id != exclude_id:
                return self.place(r.values["booth_id"])
        return None

    def earliest_waitlisted(self, booth_id):
        waiting = [
            r
            for r in self.live_members()
            if r.values["booth_id"] == booth_id and r.values["status"] == "waitlisted"
        ]
        if not waiting:
            return None
        first = min(waiting, key=lambda r: (r.values.get("waitlisted_at") or 0, r.id))
        return self.load("member", first.id)

    def author_of(self, hlc):
        device = self.db.devices.get(hlc.split("-", 2)[2])
        return device["user_id"] if device else None

    def find_rsvp(self, meeting_id, user_id):
        for (entity, record_id), r in self.db.records.items():
            if entity == "rsvp" and r.values["meeting_id"] == meeting_id:
                if r.values["user_id"] == user_id:
                    return self.load("rsvp", record_id)
        return None

    def meeting_reaches(self, meeting, actor):
        user = self.db.users[actor.user_id]
        return (
            meeting.values["unit_id"] in self.db.units_reaching(actor.user_id)
            and user["role"] in meeting.values["audience_roles"]
        ) or meeting.created_by == actor.user_id

    def user_place(self, user_id):
        user = self.db.users.get(user_id)
        return None if user is None else self.place(user["unit_id"])

    # ------------------------------------------------------------ writes

    def next_ref_no(self, district_id, now_ms):
        year = datetime.fromtimestamp((now_ms + IST_MS) / 1000, UTC).year
        key = (district_id, year)
        self.db.serials[key] = self.db.serials.get(key, 0) + 1
        return f"{self.place(district_id).code}-{year}-{self.db.serials[key]:06d}"

    def save(self, record, changed, actor, hlc, place, action):
        key = (record.entity, record.id)
        self._touch(key)
        if record.created:
            for name, default in DEFAULTS[record.entity].items():
                record.values.setdefault(name, copy.copy(default))
            record.created_by = actor.user_id
            record.created = False
            self.db.stamps[key] = {"created_at": self.now, "updated_at": self.now}
        else:
            self.db.stamps[key]["updated_at"] = self.now
        if record.entity in ("member", "grievance", "grievance_note"):
            record.values["booth_id"] = place.id
        self.db.records[key] = record
        self.db.changed[key] = self.tx
        if record.entity in ("member", "grievance"):
            self._follow(record)

    def _follow(self, record):
        """A member or grievance that changed scope takes its notes and conflict records
        along (server/syncing/visibility.py's move_attachments): they are written again,
        and whoever could read them in the scope they left is told to drop them."""
        key = (record.entity, record.id)
        restricted = record.values.get("category") in SENSITIVE_CATEGORIES
        owner = record.created_by if record.entity == "grievance" else None
        scope = (record.values["booth_id"], restricted, owner)
        before = self.db.scopes.get(key)
        self.db.scopes[key] = scope
        if before is None or before == scope:
            return
        self._leave(key, before, scope)
        for other_key, other in list(self.db.records.items()):
            values = other.values
            about = (
                other_key[0] == "grievance_note"
                and record.entity == "grievance"
                and values["grievance_id"] == record.id
            ) or (other_key[0] == "conflict" and (values["entity"], values["record_id"]) == key)
            if about:
                self._touch(other_key)
                values["booth_id"] = scope[0]
                self.db.changed[other_key] = self.tx
                self._leave(other_key, before, scope)

    def _leave(self, key, before, scope):
        left = self.db.left.setdefault(key, {})
        left[before] = self.tx
        left.pop(scope, None)

    def add_conflict(self, about, place, kind, lost, kept, lost_hlc, author_id, actor, hlc):
        values = {
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
        }
        record = Record("conflict", self.db.new_id(), 1, values, created=True)
        self.created.add(("conflict", record.id))
        self.save(record, sorted(values), actor, hlc, place, "conflict")

    def erase_from_conflicts(self, record, fields):
        for key, conflict in list(self.db.records.items()):
            values = conflict.values
            if key[0] != "conflict" or values["record_id"] != record.id:
                continue
            if not any(f in values["lost"] or f in values["kept"] for f in fields):
                continue
            self._touch(key)
            lost = {k: v for k, v in values["lost"].items() if k not in fields}
            kept = {k: v for k, v in values["kept"].items() if k not in fields}
            values.update(lost=lost, kept=kept, resolved=True)
            if key in self.created:
                continue  # made by this push: it is written once, already erased
            conflict.version += 1
            conflict.meta.update(lost=[conflict.version, ""], kept=[conflict.version, ""])
            self.db.stamps[key]["updated_at"] = self.now
            self.db.changed[key] = self.tx
