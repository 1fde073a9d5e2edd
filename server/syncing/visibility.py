"""Who pulls what: the change-index scope of every record, one rule for a record and
everything attached to it.

Notes and conflict records are exactly as visible as the record they belong to, in its
current state: they take its booth, block and district, its owner (a grievance's
reporter), and its restriction (a complaint about a party office-bearer is the booth's and
the Connect Centre's only). The restriction is part of the scope key (`b12` / `b12r`), so
a reclassified grievance changes key: its old row is marked `removed` and the people who
no longer see it are told to drop it, exactly as for a record that moves booth. When a
member or grievance changes scope, its notes and conflict records are re-indexed (and
their booth columns moved) in the same transaction.

A conflict record about a meeting likewise takes the meeting's index row: its unit, its
audience and its scope key (`u7a3`), so it reaches the meeting's audience and the leaders
over its unit, and nobody else (not a volunteer of its booth outside the audience, nor
its author once they no longer see the meeting); it follows the meeting to another unit
or audience.
"""

from dataclasses import dataclass

from sqlalchemy import select, update

from server.extensions import db
from server.grievances.models import GrievanceNote
from server.masking import mask_clashes
from server.syncing.models import Conflict, RecordChange
from sync.fields import ROLES
from sync.scope import SENSITIVE_CATEGORIES, can_see, holds_everything, record_within

# Records with their own booth scope, and what hangs off each.
PARENTS = ("member", "grievance")
ATTACHED = {"grievance": ("grievance_note", "conflict"), "member": ("conflict",)}
# A meeting reaches people through its unit and audience; its conflict records with it.
MEETING = "meeting"
RESTRICTED = "r"  # scope-key suffix of records only the booth and the Connect Centre see


@dataclass
class Scope:
    booth_id: int | None
    block_id: int | None
    district_id: int | None
    owner_id: int | None = None
    restricted: bool = False

    @property
    def key(self) -> str:
        return f"b{self.booth_id}" + (RESTRICTED if self.restricted else "")

    def columns(self) -> dict:
        """The index columns: a restricted record is not found by block or district."""
        hidden = self.restricted
        return {
            "booth_id": self.booth_id,
            "block_id": None if hidden else self.block_id,
            "district_id": None if hidden else self.district_id,
            "owner_id": self.owner_id,
        }


def scope_of(store, entity, record_id) -> Scope | None:
    """The current scope of a member or grievance of this batch or the database."""
    record = store.peek(entity, record_id)
    if record is None:
        return None
    place = store.place(record.values["booth_id"])
    return record_scope(entity, record.values, record.created_by, place.block_id, place.district_id)


def record_scope(entity, values, created_by, block_id, district_id) -> Scope:
    if entity == "grievance":
        # Whoever reported a grievance follows it, even from outside the booth.
        restricted = values.get("category") in SENSITIVE_CATEGORIES
        return Scope(values["booth_id"], block_id, district_id, created_by, restricted)
    return Scope(values["booth_id"], block_id, district_id)


def index_columns(scope: Scope) -> dict:
    """A booth record's change-index columns and scope key."""
    return {**scope.columns(), "scope_key": scope.key}


def own_scope_row(entity, row) -> dict:
    """The index columns of a member or grievance (`row`: the record as written)."""
    values = {"booth_id": row.booth_id, "category": getattr(row, "category", None)}
    return index_columns(
        record_scope(entity, values, row.created_by, row.block_id, row.district_id)
    )


def attached_row(store, entity, record_id, row) -> dict:
    """The index columns of a note or conflict record about a member or grievance: those
    of the record it belongs to, as it stands now."""
    # A note or conflict whose record cannot be read stays with its booth alone.
    scope = scope_of(store, entity, record_id) or Scope(row.booth_id, None, None, None, True)
    return index_columns(scope)


def unit_columns(place) -> dict:
    """The index columns of a record that reaches people through a unit (a meeting's)."""
    return {
        "unit_id": place.id,
        "block_id": place.id if place.type == "block" else place.block_id,
        "district_id": place.id if place.type == "district" else place.district_id,
    }


def meeting_scope_key(unit_id, audience_roles) -> str:
    """A meeting's scope: its unit and its audience (the roles as bits of ROLES), so that a
    meeting moved to another unit or given another audience leaves its old scope, and
    whoever read it there and no longer does is told to drop it (rule 10)."""
    roles = sum(1 << ROLES.index(role) for role in set(audience_roles) if role in ROLES)
    return f"u{unit_id}a{roles}"


def meeting_columns(store, unit_id, audience_roles) -> dict:
    """The index columns of a meeting, and of each conflict record about it: the roles of
    its audience in and under its unit, and the leaders whose scope holds the unit."""
    return {
        **unit_columns(store.place(unit_id)),
        "scope_key": meeting_scope_key(unit_id, audience_roles),
        "audience": "," + ",".join(audience_roles) + ",",
    }


def meeting_conflict_row(store, row) -> dict:
    """The index columns of a conflict record about a meeting: the meeting's, as it stands
    now (a meeting is never deleted; one not found keeps its conflicts to no one but the
    leaders over the conflict's unit)."""
    meeting = store.peek(MEETING, row.record_id)
    if meeting is not None:
        return meeting_columns(store, meeting.values["unit_id"], meeting.values["audience_roles"])
    unit_id = row.booth_id or row.unit_id
    return {**unit_columns(store.place(unit_id)), "scope_key": f"u{unit_id}"}


def live_keys(rows) -> dict:
    """The scope keys each record of `rows` has in the index now (before this batch)."""
    wanted: dict[str, set] = {}
    for row in rows:
        wanted.setdefault(row["entity"], set()).add(row["record_id"])
    found: dict[tuple, set] = {}
    for entity, ids in wanted.items():
        query = select(RecordChange.record_id, RecordChange.scope_key).where(
            RecordChange.entity == entity,
            RecordChange.record_id.in_(ids),
            RecordChange.removed.is_(False),
        )
        for record_id, key in db.session.execute(query):
            found.setdefault((entity, record_id), set()).add(key)
    return found


def reindexed(store, rows) -> tuple[list, list]:
    """Every index row to write, attachments of records that changed scope included, and
    the rows to mark `removed` (a record's old scope keys)."""
    live = live_keys(rows)
    by_key = {(r["entity"], r["record_id"]): r for r in rows}
    changed = [
        r
        for r in rows
        if r["entity"] in (*PARENTS, MEETING)
        and live.get((r["entity"], r["record_id"]), {r["scope_key"]}) != {r["scope_key"]}
    ]
    attached = [
        row
        for parent in changed
        for row in (
            move_meeting_conflicts(store, parent)
            if parent["entity"] == MEETING
            else move_attachments(store, parent)
        )
    ]
    if attached:
        for key, old_keys in live_keys(attached).items():
            live.setdefault(key, set()).update(old_keys)
        by_key.update({(r["entity"], r["record_id"]): r for r in attached})
    moved = [
        {"e": entity, "r": record_id, "s": old}
        for (entity, record_id), row in by_key.items()
        for old in live.get((entity, record_id), ())
        if old != row["scope_key"]
    ]
    return list(by_key.values()), moved


def move_attachments(store, parent_row) -> list:
    """Give the notes and conflict records of a record that changed scope its new booth
    columns (taking their row locks, so a concurrent write of one of them is ordered after
    this) and their new index rows."""
    entity, record_id = parent_row["entity"], parent_row["record_id"]
    scope = scope_of(store, entity, record_id)
    booth = {
        "booth_id": scope.booth_id,
        "block_id": scope.block_id,
        "district_id": scope.district_id,
    }
    rows = []
    if "grievance_note" in ATTACHED[entity]:
        db.session.execute(
            update(GrievanceNote)
            .where(GrievanceNote.grievance_id == record_id)
            .values(**booth)
            .execution_options(synchronize_session=False)
        )
        notes = select(GrievanceNote.id).where(GrievanceNote.grievance_id == record_id)
        rows += [("grievance_note", i) for i in db.session.execute(notes).scalars()]
    db.session.execute(
        update(Conflict)
        .where(Conflict.entity == entity, Conflict.record_id == record_id)
        .values(**booth)
        .execution_options(synchronize_session=False)
    )
    conflicts = select(Conflict.id).where(
        Conflict.entity == entity, Conflict.record_id == record_id
    )
    rows += [("conflict", i) for i in db.session.execute(conflicts).scalars()]
    return [
        {
            **parent_row,
            **scope.columns(),
            "entity": kind,
            "record_id": attached_id,
            "scope_key": scope.key,
        }
        for kind, attached_id in rows
    ]


def move_meeting_conflicts(store, meeting_row) -> list:
    """Give the conflict records of a meeting given another unit or audience the meeting's
    unit (in their own columns, as a new one would have it) and its new index rows."""
    meeting_id = meeting_row["record_id"]
    place = store.place(meeting_row["unit_id"])
    booth = place.type == "booth"
    db.session.execute(
        update(Conflict)
        .where(Conflict.entity == MEETING, Conflict.record_id == meeting_id)
        .values(
            booth_id=place.id if booth else None,
            unit_id=None if booth else place.id,
            block_id=meeting_row["block_id"],
            district_id=meeting_row["district_id"],
        )
        .execution_options(synchronize_session=False)
    )
    conflicts = select(Conflict.id).where(
        Conflict.entity == MEETING, Conflict.record_id == meeting_id
    )
    return [
        {**meeting_row, "entity": "conflict", "record_id": conflict_id}
        for conflict_id in db.session.execute(conflicts).scalars()
    ]


# ---------------------------------------------------------------- answers and pulls


def answer_conflicts(store, who, record, clashes) -> list:
    """A push answer's `conflicts`: none when the pusher may not read the record, else
    masked for the pusher as the record itself is."""
    if not clashes or not can_see(store, who, record):
        return []
    booth_id = record.values.get("booth_id")
    block_id = store.place(booth_id).block_id if booth_id else None
    return mask_clashes(store.actor.user, record.entity, clashes, booth_id, block_id)


def row_visible(user, row, reaching) -> bool:
    """Does this index row reach the user? The Python twin of service.scope_condition."""
    unit = user.unit
    if holds_everything(unit.type) or (row.owner_id is not None and row.owner_id == user.id):
        return True
    # A meeting's row, or a conflict record's about it: its audience in reach.
    if row.unit_id in reaching and f",{user.role}," in (row.audience or ""):
        return True
    return record_within(unit.type, unit.id, row)


def still_visible(user, entity, record_id, reaching) -> bool:
    """Does the user still reach the record under one of its present scope keys?"""
    rows = db.session.execute(
        select(RecordChange).where(
            RecordChange.entity == entity,
            RecordChange.record_id == record_id,
            RecordChange.removed.is_(False),
        )
    ).scalars()
    return any(row_visible(user, row, reaching) for row in rows)
