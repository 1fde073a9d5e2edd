"""The unit tree with counts of booths, roster members and grievances, for online roles.

Counts come from three grouped queries per answer (booths, members by status,
grievances open/total), grouped by the lowest unit shown and added up the tree in
Python, so a whole-state tree costs the same handful of queries as a block's.
"""

from sqlalchemy import case, false, func, select

from server.accounts.models import User
from server.errors import forbidden, not_found
from server.extensions import db
from server.geo.models import ASSEMBLY, BLOCK, BOOTH, DISTRICT, LOK_SABHA, PANCHAYAT, STATE, Unit
from server.grievances.models import Grievance
from server.roster.models import Member
from server.scope import grievance_filter, unit_within, within_condition
from sync.fields import GRIEVANCE_STATUSES, MEMBER_STATUSES
from sync.scope import UNIT_TYPES

# A grievance is open until it is resolved, closed or withdrawn (a reopened one is open).
OPEN_GRIEVANCE_STATUSES = tuple(
    s for s in GRIEVANCE_STATUSES if s not in ("resolved", "closed", "withdrawn")
)

# The levels the tree shows below a scope unit: down to blocks, and to booths for a block.
TREE_LEVELS = {
    STATE: (DISTRICT, BLOCK),
    DISTRICT: (BLOCK,),
    BLOCK: (PANCHAYAT, BOOTH),
    PANCHAYAT: (BOOTH,),
    BOOTH: (),
}
# The column of a booth that names its unit at each level (the table of unit types).
BOOTH_KEY = {
    level: getattr(Unit, UNIT_TYPES[level].path[0])
    for level in (DISTRICT, BLOCK, PANCHAYAT, BOOTH, ASSEMBLY)
}
# The column of a member or grievance naming its unit at a level, where it has one.
RECORD_KEY = {level: entry.record_key for level, entry in UNIT_TYPES.items() if entry.record_key}
# The children a unit's page lists, by the type of the unit.
CHILD_TYPE = {
    STATE: DISTRICT,
    DISTRICT: BLOCK,
    BLOCK: PANCHAYAT,
    PANCHAYAT: BOOTH,
    LOK_SABHA: ASSEMBLY,
}


def _below(unit: Unit):
    """A SQL condition on Unit: the units under `unit` (booths included; a booth is
    under itself, no other unit is)."""
    return within_condition(unit, Unit)


def _empty_counts():
    return {
        "booths": 0,
        "members": dict.fromkeys(MEMBER_STATUSES, 0),
        "grievances": {"open": 0, "total": 0},
    }


def _add(counts, more):
    counts["booths"] += more["booths"]
    for status, n in more["members"].items():
        counts["members"][status] += n
    for key, n in more["grievances"].items():
        counts["grievances"][key] += n


def _grouping(model, level, within):
    """Key column, conditions and whether to join the booth, for `model`'s rows by `level`.

    Members and grievances carry their booth, block and district, so counts by those
    inside a state, district, block or booth read the records' own indexed columns; a
    panchayat or a seat is found through the booth.
    """
    if level in RECORD_KEY and all(u.type == STATE or u.type in RECORD_KEY for u in within):
        conditions = [within_condition(u, model, record=True) for u in within if u.type != STATE]
        return getattr(model, RECORD_KEY[level]), conditions, False
    return BOOTH_KEY[level], [Unit.type == BOOTH, *(_below(u) for u in within)], True


def booth_counts(level, within, viewer: User) -> dict:
    """Counts by the unit of type `level` holding each booth, over the booths inside every
    unit of `within` (a unit and the caller's scope). Grievances are counted by the one
    rule that lists them (`grievance_filter`): a complaint the viewer may not read is
    not counted either.

    Soft-deleted members and grievances are left out. Three queries, whatever the size.
    """
    counts = {}

    def at(value):
        return counts.setdefault(value, _empty_counts())

    key = BOOTH_KEY[level]
    query = select(key, func.count()).where(Unit.type == BOOTH, *(_below(u) for u in within))
    for value, n in db.session.execute(query.group_by(key)):
        at(value)["booths"] = n

    key, conditions, join = _grouping(Member, level, within)
    query = select(key, Member.status, func.count()).select_from(Member)
    if join:
        query = query.join(Unit, Unit.id == Member.booth_id)
    query = query.where(*conditions, Member.deleted == false()).group_by(key, Member.status)
    for value, status, n in db.session.execute(query):
        at(value)["members"][status] = n

    key, conditions, join = _grouping(Grievance, level, within)
    is_open = case((Grievance.status.in_(OPEN_GRIEVANCE_STATUSES), 1), else_=0)
    query = select(key, func.count(), func.sum(is_open)).select_from(Grievance)
    if join:
        query = query.join(Unit, Unit.id == Grievance.booth_id)
    query = query.where(
        *conditions, Grievance.deleted == false(), grievance_filter(viewer, Grievance)
    ).group_by(key)
    for value, total, n_open in db.session.execute(query):
        at(value)["grievances"] = {"open": int(n_open or 0), "total": total}
    return counts


def _node(unit: Unit, with_children=True) -> dict:
    node = {
        "id": unit.id,
        "type": unit.type,
        "code": unit.code,
        "name_en": unit.name_en,
        "name_hi": unit.name_hi,
        "number": unit.number,
        "reserved": unit.reserved,
        "parent_id": unit.parent_id,
        "counts": _empty_counts(),
    }
    if with_children:
        node["children"] = []
    return node


def _ordered(query):
    return query.order_by(Unit.number, Unit.name_en, Unit.id)


def unit_tree(user: User) -> dict:
    """The user's scope unit with the units below it and their counts."""
    root = user.unit
    levels = TREE_LEVELS.get(root.type, ())
    nodes = {root.id: _node(root)}
    parent_of = {}
    if levels:
        units = db.session.scalars(
            _ordered(select(Unit).where(Unit.type.in_(levels), _below(root)))
        )
        # Parents before children, whatever order the database gave within a level.
        for unit in sorted(units, key=lambda u: levels.index(u.type)):
            parent = nodes.get(unit.parent_id)
            if parent is None:
                continue
            nodes[unit.id] = _node(unit)
            parent_of[unit.id] = unit.parent_id
            parent["children"].append(nodes[unit.id])
    lowest = levels[-1] if levels else root.type
    for unit_id, counts in booth_counts(lowest, [root], user).items():
        while unit_id in nodes:
            _add(nodes[unit_id]["counts"], counts)
            unit_id = parent_of.get(unit_id)
    return nodes[root.id]


def unit_with_children(user: User, unit_id: int) -> dict:
    """One unit inside the user's scope, with its direct children and their counts."""
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        raise not_found("unit")
    if not unit_within(user.unit, unit):
        raise forbidden("This unit is outside your area.")
    node = _node(unit)
    child_type = CHILD_TYPE.get(unit.type)
    children = {}
    if child_type:
        query = select(Unit).where(Unit.parent_id == unit.id, Unit.type == child_type)
        for child in db.session.scalars(_ordered(query)):
            children[child.id] = _node(child, with_children=False)
            node["children"].append(children[child.id])
    # With no children (a booth, an assembly seat) counts by booth add up to the unit.
    # A seat can cross district lines: count only the booths the user may see.
    for child_id, counts in booth_counts(child_type or BOOTH, [unit, user.unit], user).items():
        _add(node["counts"], counts)
        if child_id in children:
            _add(children[child_id]["counts"], counts)
    return node
