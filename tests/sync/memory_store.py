"""The engine's Store (sync/store.py) over a `MemoryDatabase`: what server/syncing/store.py's
BatchStore answers from the database, answered from dicts, so the rules of sync/ are
tested without one. Each mutation runs between `begin()` and `commit()` / `rollback()`,
and a rejected one leaves no trace.
"""

import copy
from datetime import UTC, datetime

from sync.fields import in_int_range
from sync.records.conflicts import conflict_values
from sync.scope import SENSITIVE_CATEGORIES
from sync.values import Record
from tests.sync.memory_database import MemoryDatabase

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
        self._undo = {"records": {}, "serials": dict(self.db.serials), "audit": len(self.db.audit)}

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
        del db.audit[self._undo["audit"] :]
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
        )

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
        if action != "conflict":  # a new conflict record is audited as its record's
            self.db.audit.append(
                (action, record.entity, record.id, record.version, sorted(changed))
            )
        if record.entity in ("member", "grievance"):
            self._follow(record)
        if record.entity == "meeting":
            # Moved to another unit or given another audience, a meeting leaves its old
            # scope (server/meetings/store.py's scope key holds both).
            scope = (
                "meeting",
                record.values["unit_id"],
                tuple(sorted(record.values["audience_roles"])),
            )
            before = self.db.scopes.get(key)
            self.db.scopes[key] = scope
            if before is not None and before != scope:
                self._leave(key, before, scope)

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

    def add_conflict(self, about, place, kind, lost, kept, lost_hlc, author_id, actor):
        values = conflict_values(about, place, kind, lost, kept, lost_hlc, author_id)
        record = Record("conflict", self.db.new_id(), 1, values, created=True)
        self.created.add(("conflict", record.id))
        self.save(record, sorted(values), actor, lost_hlc, place, "conflict")
        self.db.audit.append(("conflict", about.entity, about.id, about.version, sorted(lost)))

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
