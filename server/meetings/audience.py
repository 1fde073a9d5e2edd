"""Who a meeting is for, and the other way round: whose meetings reach a person.

A meeting names a unit and the roles inside it. A person is inside the unit when their
own scope unit (a booth for a volunteer, a block or district for its president, the
state for state-wide roles) lies within it in the administrative tree
state > district > block > panchayat > booth. Lok Sabha and assembly seats cut across
that tree: a seat's meeting reaches the volunteers of the booths in the seat and the
block and district presidents whose block or district holds such a booth.

`recipients` (SQL, for the fan-out) and `units_reaching` (ids, for the sync pull) must
agree; tests/server/meetings/test_audience.py checks every user against every unit.
"""

from sqlalchemy import Select, and_, bindparam, false, or_, select
from sqlalchemy.orm import aliased

from server.accounts.models import ROLE_UNIT_TYPE, User
from server.extensions import db
from server.geo.models import ASSEMBLY, BOOTH, LOK_SABHA, STATE, Unit
from server.scope import within_condition
from sync.scope import UNIT_TYPES, holds_everything

# The attribute of a booth that names the scope unit of each seat-crossing role (every
# role but the state-wide ones), by the table of unit types.
_SEAT_ROLE_COLUMN = {
    role: UNIT_TYPES[unit_type].path[0]
    for role, unit_type in ROLE_UNIT_TYPE.items()
    if not holds_everything(unit_type)
}


def _seat_booths(unit: Unit):
    """SQL: the booths in an assembly seat, or in any assembly seat of a Lok Sabha seat."""
    booth = aliased(Unit)
    if unit.type == ASSEMBLY:
        seats = [unit.id]
    else:
        seats = select(Unit.id).where(Unit.type == ASSEMBLY, Unit.parent_id == unit.id)
    return booth, select(booth).where(booth.type == BOOTH, booth.assembly_id.in_(seats))


def _seat_condition(unit: Unit, roles):
    """SQL on User: a seat-crossing role whose scope unit holds a booth of the seat."""
    clauses = []
    for role in roles:
        if role not in _SEAT_ROLE_COLUMN:
            continue
        booth, booths = _seat_booths(unit)
        column = getattr(booth, _SEAT_ROLE_COLUMN[role])
        clauses.append(and_(User.role == role, User.unit_id.in_(booths.with_only_columns(column))))
    return or_(false(), *clauses)


def recipients(meeting) -> Select:
    """SQL selecting the active users a meeting is for (use `.with_only_columns(User.id)`
    for a subquery of ids)."""
    unit = db.session.get(Unit, meeting.unit_id)
    roles = list(meeting.audience_roles or ())
    query = select(User).where(User.active.is_(True), User.role.in_(roles))
    if unit is None or not roles:
        return query.where(false())
    if unit.type in (ASSEMBLY, LOK_SABHA):
        return query.where(_seat_condition(unit, roles))
    person_unit = aliased(Unit)
    # The person's scope unit lies within the admin unit (or is it).
    return query.join(person_unit, person_unit.id == User.unit_id).where(
        within_condition(unit, person_unit, include_self=True)
    )


def _ancestors_query():
    """SQL: a unit and every unit above it (a recursive walk up `parent_id`), built once."""
    chain = (
        select(Unit.id, Unit.parent_id)
        .where(Unit.id == bindparam("unit_id"))
        .cte("chain", recursive=True)
    )
    above = aliased(Unit)
    chain = chain.union_all(
        select(above.id, above.parent_id).join(chain, above.id == chain.c.parent_id)
    )
    return select(chain.c.id)


_ANCESTORS = _ancestors_query()


def _admin_ancestors(unit: Unit) -> list[int]:
    """The unit and every unit above it, in one query: every pull asks, and reading the
    units one at a time was a fifth of a pull's cost."""
    return list(db.session.scalars(_ANCESTORS, {"unit_id": unit.id}))


def units_reaching(user) -> list[int]:
    """Ids of the units whose meetings can reach `user` (given a role in their audience):
    the person's own unit, its admin ancestors, and the seats that overlap it."""
    unit = db.session.get(Unit, user.unit_id)
    if unit is None:
        return []
    ids = _admin_ancestors(unit)
    column = _SEAT_ROLE_COLUMN.get(user.role)
    if column is None or unit.type == STATE:
        return sorted(set(ids))
    booth = aliased(Unit)
    seats = select(booth.assembly_id).where(
        booth.type == BOOTH,
        booth.assembly_id.is_not(None),
        getattr(booth, column) == unit.id,
    )
    seat_rows = db.session.execute(
        select(Unit.id, Unit.parent_id).where(Unit.type == ASSEMBLY, Unit.id.in_(seats))
    ).all()
    for seat_id, lok_sabha_id in seat_rows:
        ids.append(seat_id)
        if lok_sabha_id is not None:
            ids.append(lok_sabha_id)
    return sorted(set(ids))
