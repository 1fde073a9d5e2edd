"""The plain values the protocol passes around: who acts, where, what is stored, what
was asked, what came of it, and why a mutation was refused."""

from dataclasses import dataclass, field


class Rejection(Exception):
    """A mutation not applied: a stable code, a text, and per-field messages."""

    def __init__(self, code, message, fields=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields or {}

    def as_error(self):
        return {"code": self.code, "message": self.message, "fields": self.fields}


def not_found(entity: str) -> Rejection:
    """The one answer for a record that is not on the server, or not for the pusher."""
    if entity == "conflict":
        return Rejection("not_found", "There is no such conflict on the server.")
    return Rejection("not_found", "There is no such record on the server.")


@dataclass
class Principal:
    """Who acts: the user, their role, their scope unit, and the device they act from."""

    user_id: int
    role: str
    unit_id: int
    unit_type: str
    unit_district_id: int | None = None
    unit_block_id: int | None = None
    device_id: str | None = None
    # When the device was registered (Unix ms): nothing typed on it can be older.
    registered_at: int | None = None


@dataclass
class Place:
    """A unit with the ids a scope test needs (a booth, or a meeting's unit)."""

    id: int
    type: str
    block_id: int | None
    district_id: int | None
    code: str = ""


@dataclass
class Record:
    entity: str
    id: str
    version: int
    values: dict
    meta: dict = field(default_factory=dict)
    deleted: bool = False
    created_by: int | None = None  # a new record's is set by the store's save
    created: bool = False

    def changed_since(self, base: int, names=None) -> list[str]:
        """Fields written after version `base` (all of them, or those among `names`)."""
        return [
            name
            for name, (version, _hlc) in self.meta.items()
            if version > base and (names is None or name in names) and name != "deleted"
        ]


@dataclass
class Mutation:
    seq: int
    entity: str
    op: str
    id: str
    base_version: int | None
    hlc: str
    fields: dict


@dataclass
class Event:
    """Something others must hear of once the batch is stored (a meeting created, changed
    or cancelled): the engine returns it, the service dispatches it."""

    name: str
    entity: str
    record_id: str
    detail: str = ""


@dataclass
class Outcome:
    status: str
    record: Record
    conflicts: list = field(default_factory=list)
    error: dict | None = None
    events: list[Event] = field(default_factory=list)
