"""What a push's BatchStore holds in memory, and how one mutation's changes to it are
forgotten when the engine rejects the mutation."""

from dataclasses import replace

from server.records import now_ms
from server.syncing.locks import LockLedger
from sync.values import Place, Record


class BatchState:
    """The batch as the engine has left it so far. Each mutation runs between `begin()` and
    `commit()` / `rollback()`: a rejected one leaves no trace, so nothing of it is written."""

    def __init__(self, actor, address=None):
        self.actor = actor  # server.auth.Actor: the user and device behind the Principal
        self.address = address  # the client's address, for the audit log
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
        self.peeked: dict[tuple, Record | None] = {}  # read without a lock (peek)
        self._undo = None

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
