"""What the server would store, in dicts: units, users, devices, records, and the order
in which records last changed (a pull's change index). tests/sync/memory_store.py is the
engine's view of it for one push."""

import itertools
import types
import uuid
from dataclasses import dataclass

from sync.values import Place, Principal, Record

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
        # A member's or grievance's scope: (booth, restricted, owner), a meeting's
        # ("meeting", unit, audience roles); and the scopes a
        # record (or a note or conflict record attached to it) has left, with when.
        self.scopes: dict[tuple, tuple] = {}
        self.left: dict[tuple, dict] = {}
        self.serials: dict[tuple, int] = {}  # (district, year) -> last serial
        # What server/syncing/writing.py audits of each write: (action, entity, id,
        # version, the fields written).
        self.audit: list[tuple] = []
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
