"""The push and pull of docs/protocol.md over a `MemoryDatabase`: the engine of sync/ with
the device bookkeeping of server/syncing/push.py and pull.py, and no HTTP, SQL or Flask.

What it models: a push applies its mutations in seq order, each through
`sync.engine.apply_mutation` with a savepoint; a seq at or below the device's last_seq is
answered `duplicate` (or with its first rejection) and not applied again; a gap is
refused. A pull brings every record the person may read now (`sync.scope.can_see`)
changed since the cursor, and `removed` for those that left a scope the person reads
(as the change index's old scope keys do); a cursor from before a scope change answers
`reset`.

What it does not: masking of mobile numbers and EPICs (server/masking.py) — records go
out whole to everyone who may read them; the request checks of the HTTP layer (schemas,
sizes, authentication); concurrency and locks (pushes run one after another); the wire
form's extra stamps (a grievance's `received_at`).
"""

import json

from sync import hlc as hlcs
from sync.device_clock import device_clock, foreign_clock
from sync.engine import apply_mutation
from sync.protocol import (
    APPLIED,
    DUPLICATE,
    MAX_MUTATIONS,
    REJECTED,
    SCHEMA_VERSION,
    UUID_RE,
    envelope_error,
)
from sync.scope import LEADERS, can_see, within
from sync.values import Mutation, Rejection
from tests.sync.memory_database import MemoryDatabase
from tests.sync.memory_store import MemoryStore

ENTITIES = ("member", "grievance", "grievance_note", "meeting", "rsvp", "conflict")


class ManualClock:
    """The server's clock, moved by the test."""

    def __init__(self, ms=1_772_000_000_000):
        self.ms = ms

    def advance(self, ms):
        self.ms += ms


def refused(status, code, message):
    """A push refused whole (the HTTP server's error shape)."""
    return status, {"code": code, "message": message, "errors": {}}


class MemoryServer:
    store_class = MemoryStore  # a test may put a broken one in its place

    def __init__(self, clock=None, database=None):
        self.clock = clock or ManualClock()
        self.db = database or MemoryDatabase()
        self.applied: dict[tuple, tuple] = {}  # (device, seq) -> (status, error)
        self.events = []  # what the last push's mutations told others (sync.values.Event)

    def now(self) -> int:
        return int(self.clock.ms)

    # ------------------------------------------------------------ records as they go out

    def wire(self, entity, record_id) -> dict | None:
        record = self.db.records.get((entity, record_id))
        if record is None:
            return None
        return {
            **json.loads(json.dumps(record.values)),
            **self.db.stamps[(entity, record_id)],
            "id": record.id,
            "version": record.version,
            "deleted": record.deleted,
            "created_by": record.created_by,
        }

    def visible_record(self, store, who, entity, record_id):
        record = store.peek(entity, record_id)
        if record is None or not can_see(store, who, record):
            return None
        return self.wire(entity, record_id)

    # ------------------------------------------------------------ push

    def push(self, device_id, body) -> tuple[int, dict]:
        """Apply a device's outbox in seq order; answer (HTTP status, body)."""
        if body["schema_version"] != SCHEMA_VERSION:
            return refused(409, "client_outdated", "This version of the app is too old.")
        if body["device_id"] != device_id:
            return refused(403, "device_mismatch", "This outbox belongs to another device.")
        mutations = sorted(body["mutations"], key=lambda raw: raw["seq"])
        if len(mutations) > MAX_MUTATIONS:
            return refused(413, "too_large", f"At most {MAX_MUTATIONS} mutations a request.")
        device = self.db.devices[device_id]
        last_seq = device["last_seq"]
        fresh = [raw for raw in mutations if raw["seq"] > last_seq]
        for expected, raw in enumerate(fresh, start=last_seq + 1):
            if raw["seq"] != expected:
                return refused(409, "seq_gap", f"Mutation {expected} is missing.")
        now = self.now()
        who = self.db.principal(device_id)
        store = self.store_class(self.db, who.user_id, now)
        results, latest = [], None
        self.events = []
        for raw in mutations:
            if raw["seq"] <= last_seq:
                results.append(self.replay(store, who, raw))
                continue
            result, stamp = self.apply_one(store, who, raw, now)
            results.append(result)
            if stamp and (latest is None or stamp > latest):
                latest = stamp
            self.applied[(device_id, raw["seq"])] = (result["status"], result["error"])
            last_seq = raw["seq"]
        device["last_seq"] = last_seq
        answer = {
            "last_seq": last_seq,
            "server_hlc": hlcs.server_stamp(self.now(), latest),
            "results": results,
        }
        return 200, json.loads(json.dumps(answer))

    def apply_one(self, store, who, raw, now):
        error = envelope_error(raw) or foreign_clock(raw["hlc"], who.device_id)
        if error:
            return self.rejected(store, who, raw, error), None
        stamp = device_clock(raw["hlc"], now, who.device_id, who.registered_at)
        mutation = Mutation(
            raw["seq"],
            raw["entity"],
            raw["op"],
            raw["id"].lower(),
            raw.get("base_version"),
            stamp,
            raw.get("fields") or {},
        )
        store.begin()
        try:
            outcome = apply_mutation(store, who, mutation, now)
        except Rejection as rejection:
            store.rollback()
            return self.rejected(store, who, raw, rejection.as_error()), stamp
        store.commit()
        self.events.extend(outcome.events)
        record = outcome.record
        seen = can_see(store, who, record)
        return {
            "seq": mutation.seq,
            "status": outcome.status,
            "id": record.id,
            "version": record.version,
            "record": self.visible_record(store, who, record.entity, record.id),
            "conflicts": list(outcome.conflicts) if seen else [],
            "error": outcome.error,
        }, stamp

    def current_record(self, store, who, raw):
        if raw.get("entity") not in ENTITIES or not isinstance(raw.get("id"), str):
            return None
        if not UUID_RE.match(raw["id"].lower()):
            return None
        return self.visible_record(store, who, raw["entity"], raw["id"].lower())

    def rejected(self, store, who, raw, error):
        record = self.current_record(store, who, raw)
        return {
            "seq": raw["seq"],
            "status": REJECTED,
            "id": raw.get("id"),
            "version": record["version"] if record else None,
            "record": record,
            "conflicts": [],
            "error": error,
        }

    def replay(self, store, who, raw):
        """A seq applied before (a retry): today's record, and the same rejection if it was."""
        status, error = self.applied.get((who.device_id, raw["seq"]), (APPLIED, None))
        if status == REJECTED:
            return self.rejected(store, who, raw, error)
        record = self.current_record(store, who, raw)
        return {
            "seq": raw["seq"],
            "status": DUPLICATE,
            "id": raw.get("id"),
            "version": record["version"] if record else None,
            "record": record,
            "conflicts": [],
            "error": None,
        }

    # ------------------------------------------------------------ pull

    def pull(self, device_id, cursor, limit) -> tuple[int, dict]:
        """The next page of changes since `cursor`, each record at its latest state."""
        device = self.db.devices[device_id]
        user_id = device["user_id"]
        scope_version = self.db.users[user_id]["scope_version"]
        base = {"last_seq": device["last_seq"], "server_hlc": hlcs.server_stamp(self.now())}
        state = json.loads(cursor) if cursor else None
        if cursor and (state["u"] != user_id or state["sv"] != scope_version):
            return 200, {"changes": [], "cursor": "", "has_more": False, "reset": True, **base}
        after = tuple(state["after"]) if state else (0, "", "", "")
        who = self.db.principal(device_id)
        store = self.store_class(self.db, user_id, self.now())
        page = []  # (position, change): only what this person is sent counts to the limit
        for position, scope in sorted(p for p in self.positions() if p[0] > after):
            change = self.change(store, who, position, scope)
            if change is not None:
                page.append((position, change))
                if len(page) > limit:
                    break
        has_more = len(page) > limit
        page = page[:limit]
        last = list(page[-1][0]) if page else list(after)
        answer = {
            "changes": [change for _position, change in page],
            "cursor": json.dumps({"after": last, "u": user_id, "sv": scope_version}),
            "has_more": has_more,
            "reset": False,
            **base,
        }
        return 200, answer

    def positions(self):
        """Where each record stands in the order of changes, as the change index's rows
        do: ((change id, entity, id, ""), None) for its present state, and one
        ((change id, entity, id, scope), scope) for each scope it has left."""
        for (entity, record_id), tx in self.db.changed.items():
            yield (tx, entity, record_id, ""), None
            for scope, left_tx in self.db.left.get((entity, record_id), {}).items():
                yield (left_tx, entity, record_id, "b{}{}:{}".format(*scope)), scope

    def change(self, store, who, position, scope):
        """What the person is sent at this position: the record, `removed` when they
        could read it in the scope it left (and cannot now), or None."""
        _tx, entity, record_id, _tag = position
        record = store.peek(entity, record_id)
        if can_see(store, who, record):
            if scope is not None:
                return None  # carried by its present state
            return {
                "entity": entity,
                "id": record_id,
                "version": record.version,
                "deleted": record.deleted,
                "record": self.wire(entity, record_id),
            }
        if scope is not None and self.reaches(who, scope):
            return {"entity": entity, "id": record_id, "removed": True}
        return None

    def reaches(self, who, scope) -> bool:
        """Could the person read records of this (booth, restricted, owner) scope?"""
        if scope[0] == "meeting":
            return self.meeting_reached(who, *scope[1:])
        booth_id, restricted, owner_id = scope
        place = self.db.units[booth_id].place
        if who.unit_type == "state" or owner_id == who.user_id:
            return True
        if who.unit_type == "booth":
            return booth_id == who.unit_id
        column = place.block_id if who.unit_type == "block" else place.district_id
        return not restricted and column == who.unit_id

    def meeting_reached(self, who, unit_id, audience) -> bool:
        """Could the person read a meeting of this unit and audience (sync.scope.can_see)?"""
        role = self.db.users[who.user_id]["role"]
        if role in audience and unit_id in self.db.units_reaching(who.user_id):
            return True
        return role in LEADERS and within(who, self.db.units[unit_id].place)
