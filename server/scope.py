"""Scope in SQL: the conditions built from the one table of unit types (sync/scope.py,
which holds the Python form and the role lists), and the tests the REST reads use."""

from sqlalchemy import and_, false, or_, select, true
from sqlalchemy.orm import aliased

from server.accounts.models import User
from server.extensions import db
from server.geo.models import BOOTH, Unit
from sync.scope import (
    FULL_PERSONAL_DATA,
    UNIT_TYPES,
    hidden_categories,
    place_within,
    seat_type,
)


def within_condition(scope, model, *, record=False, include_self=False):
    """SQL: the rows of `model` inside the scope unit `scope` (anything with `type` and
    `id`), by the table of unit types.

    `model` is Unit (or an alias of it), whose rows are units: `include_self` adds the
    scope unit itself (a booth is always its own). With `record`, `model` is a booth
    record (member, grievance, change-index row): its `booth_id`, `block_id` and
    `district_id` say where it is, and a panchayat or seat holds none of them.
    """
    entry = UNIT_TYPES.get(scope.type)
    if entry is not None and not entry.path:
        return true()
    if record:
        if entry is None or entry.record_key is None:
            return false()
        return getattr(model, entry.record_key) == scope.id
    if entry is None:
        return model.id == scope.id if include_self else false()
    first, *rest = entry.path
    if rest:  # through the seat: its id among the seats whose `parent_id` is the scope
        seat = aliased(Unit)
        seats = select(seat.id).where(
            seat.type == seat_type(first), getattr(seat, rest[0]) == scope.id
        )
        condition = getattr(model, first).in_(seats)
    else:
        condition = getattr(model, first) == scope.id
    if include_self and first != "id":
        return or_(model.id == scope.id, condition)
    return condition


def _unit(unit_id):
    return db.session.get(Unit, unit_id)


def unit_within(scope: Unit, unit: Unit) -> bool:
    """Is `unit` inside `scope` in the administrative tree (or the scope itself)?"""
    return place_within(scope.type, scope.id, unit, lookup=_unit)


def booth_in_scope(user: User, booth: Unit) -> bool:
    return booth.type == BOOTH and unit_within(user.unit, booth)


def booth_filter(user: User, model):
    """A SQL condition selecting rows of a booth-scoped `model` inside the user's scope."""
    return within_condition(user.unit, model, record=True)


def grievance_filter(user: User, model):
    """Booth scope, less complaints about office-bearers for leaders who may be named in
    them: those go to the Connect Centre only (the booth's volunteers still see their own,
    and whoever reported one follows it, as sync/scope.py's can_see says)."""
    hidden = hidden_categories(user.role)
    if not hidden:
        return booth_filter(user, model)
    return and_(
        booth_filter(user, model),
        or_(model.category.notin_(hidden), model.created_by == user.id),
    )


def sees_full_personal_data(user: User) -> bool:
    """Mobile numbers and EPICs in full only for the booth's volunteer and block president."""
    return user.role in FULL_PERSONAL_DATA


def mask_phone(phone):
    return None if not phone else "******" + phone[-4:]


def mask_epic(epic):
    return None if not epic else epic[:3] + "*****" + epic[-2:]
