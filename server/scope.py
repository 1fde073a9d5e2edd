"""Scope: which units a person's role reaches, as Python tests and as SQL filters."""

from sqlalchemy import and_, false, true

from server.accounts.models import (
    ADMIN,
    BLOCK_PRESIDENT,
    CONNECT_CENTRE,
    DISTRICT_PRESIDENT,
    VOLUNTEER,
    User,
)
from server.geo.models import BLOCK, BOOTH, DISTRICT, STATE, Unit
from sync.scope import SENSITIVE_CATEGORIES

# Roles that approve or reject roster entries inside their scope (rule 3).
REVIEWER_ROLES = (BLOCK_PRESIDENT, DISTRICT_PRESIDENT, CONNECT_CENTRE, ADMIN)
# Roles that see mobile numbers and EPICs in full, for booths in their scope.
FULL_PERSONAL_DATA_ROLES = (VOLUNTEER, BLOCK_PRESIDENT)


def unit_within(scope: Unit, unit: Unit) -> bool:
    """Is `unit` inside `scope` in the administrative tree (or the scope itself)?"""
    if scope.type == STATE:
        return True
    if scope.id == unit.id:
        return True
    if scope.type == DISTRICT:
        return unit.district_id == scope.id
    if scope.type == BLOCK:
        return unit.block_id == scope.id
    return False


def booth_in_scope(user: User, booth: Unit) -> bool:
    return booth.type == BOOTH and unit_within(user.unit, booth)


def booth_filter(user: User, model):
    """A SQL condition selecting rows of a booth-scoped `model` inside the user's scope."""
    unit = user.unit
    if unit.type == STATE:
        return true()
    if unit.type == DISTRICT:
        return model.district_id == unit.id
    if unit.type == BLOCK:
        return model.block_id == unit.id
    if unit.type == BOOTH:
        return model.booth_id == unit.id
    return false()


def grievance_filter(user: User, model):
    """Booth scope, less complaints about office-bearers for leaders who may be named in
    them: those go to the Connect Centre only (the booth's volunteers still see their own)."""
    hidden = [
        category
        for category, roles in SENSITIVE_CATEGORIES.items()
        if user.role != VOLUNTEER and user.role not in roles
    ]
    if not hidden:
        return booth_filter(user, model)
    return and_(booth_filter(user, model), model.category.notin_(hidden))


def sees_full_personal_data(user: User) -> bool:
    """Mobile numbers and EPICs in full only for the booth's volunteer and block president."""
    return user.role in FULL_PERSONAL_DATA_ROLES


def mask_phone(phone):
    return None if not phone else "******" + phone[-4:]


def mask_epic(epic):
    return None if not epic else epic[:3] + "*****" + epic[-2:]
