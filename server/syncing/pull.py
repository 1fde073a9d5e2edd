"""A pull: the next page of the change index in the puller's scope, by cursor, each record
at its latest state and masked for the puller (docs/sync.md, "Pull")."""

from sqlalchemy import and_, or_, select, tuple_

from server.extensions import db
from server.meetings.audience import units_reaching
from server.records import now_ms
from server.scope import within_condition
from server.serialize import to_record
from server.syncing import visibility
from server.syncing.database import database_identity, pull_horizon
from server.syncing.models import RecordChange
from server.syncing.registry import MODELS
from sync import hlc as hlcs
from sync.protocol import decode_cursor, encode_cursor
from sync.scope import holds_everything


def scope_condition(user, reaching: list[int]):
    """Change-index rows the user may pull (rule 10 of docs/protocol.md), as one SQL condition."""
    unit = user.unit
    if holds_everything(unit.type):
        return RecordChange.entity.isnot(None)
    # A meeting, or a conflict record about it (the rows with an audience).
    meetings = and_(
        RecordChange.unit_id.in_(reaching),
        RecordChange.audience.like(f"%,{user.role},%"),
    )
    return or_(
        within_condition(unit, RecordChange, record=True),
        meetings,
        RecordChange.owner_id == user.id,
    )


def pull_changes(actor, cursor: str, limit: int) -> dict:
    """The next page of changes in the user's scope, each record at its latest state."""
    user, device = actor.user, actor.device
    state = decode_cursor(cursor)
    base = {"last_seq": device.last_seq, "server_hlc": hlcs.server_stamp(now_ms())}
    identity = database_identity()
    if cursor and (
        state is None
        or state.get("u") != user.id
        or state.get("sv") != user.scope_version
        or state.get("db") != identity
    ):
        return {"changes": [], "cursor": "", "has_more": False, "reset": True, **base}
    state = state or {"v": 1, "lo": 0, "hi": None, "after": None}
    hi = state["hi"] if state["hi"] is not None else pull_horizon()
    key = (
        RecordChange.change_tx,
        RecordChange.entity,
        RecordChange.record_id,
        RecordChange.scope_key,
    )
    reaching = units_reaching(user)
    query = select(RecordChange).where(
        scope_condition(user, reaching),
        RecordChange.change_tx >= state["lo"],
        RecordChange.change_tx < hi,
    )
    if state["after"]:
        query = query.where(tuple_(*key) > tuple(state["after"]))
    rows = db.session.execute(query.order_by(*key).limit(limit + 1)).scalars().all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    changes = page_of_changes(user, rows, reaching)
    if has_more:
        last = rows[-1]
        next_state = {
            **state,
            "hi": hi,
            "after": [last.change_tx, last.entity, last.record_id, last.scope_key],
        }
    else:
        next_state = {"v": 1, "lo": hi, "hi": None, "after": None}
    next_state.update(u=user.id, sv=user.scope_version, db=identity)
    return {
        "changes": changes,
        "cursor": encode_cursor(next_state),
        "has_more": has_more,
        "reset": False,
        **base,
    }


def page_of_changes(user, rows, reaching=()):
    """Load the page's records in one query per entity and put them in index order."""
    wanted: dict[str, set] = {}
    for row in rows:
        wanted.setdefault(row.entity, set()).add(row.record_id)
    loaded = {}
    for entity, ids in wanted.items():
        model = MODELS[entity]
        for obj in db.session.execute(select(model).where(model.id.in_(ids))).scalars():
            loaded[(entity, obj.id)] = obj
    changes = []
    for row in rows:
        obj = loaded.get((row.entity, row.record_id))
        if row.removed:
            # A record that moved within the user's scope is carried by its present row.
            if obj is None or not visibility.still_visible(
                user, row.entity, row.record_id, reaching
            ):
                changes.append({"entity": row.entity, "id": row.record_id, "removed": True})
            continue
        changes.append(
            {
                "entity": row.entity,
                "id": obj.id,
                "version": obj.version,
                "deleted": obj.deleted,
                "record": to_record(row.entity, obj, user),
            }
        )
    return changes
