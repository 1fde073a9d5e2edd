"""People: the person's own settings, and the people managers list, add, change,
disable and enable."""

import logging

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from server.accounts import passwords, roles
from server.accounts.models import BLOCK_PRESIDENT, ROLE_UNIT_TYPE, VOLUNTEER, Device, User
from server.accounts.roles import MANAGER_ROLES
from server.accounts.sessions import end_sessions
from server.audit.services import log_change
from server.auth import Actor
from server.errors import ApiError, forbidden, not_found, validation_error
from server.extensions import db
from server.geo.models import BOOTH, Unit
from server.listing import contains_text, paginate
from server.records import now_ms
from server.scope import within_condition

log = logging.getLogger(__name__)


def _phone_taken():
    return ApiError("phone_taken", "This phone number already has an account.", 409)


# The person's own settings


def update_profile(actor: Actor, values: dict) -> Actor:
    """Change the actor's own name or language."""
    user = actor.user
    changed = sorted(name for name, value in values.items() if getattr(user, name) != value)
    if changed:
        for name in changed:
            setattr(user, name, values[name])
        user.updated_at = now_ms()
        log_change(actor, "update", "user", user.id, fields=changed)
        db.session.commit()
    return actor


# People


def manages(manager: User, role: str, unit: Unit) -> bool:
    """May `manager` add, disable and enable a person of `role` whose unit is `unit`?"""
    if manager.role in MANAGER_ROLES:
        return True
    return (
        manager.role == BLOCK_PRESIDENT
        and role == VOLUNTEER
        and unit.type == BOOTH
        and unit.block_id == manager.unit_id
    )


def list_users(actor: Actor, page, per_page, role=None, unit_id=None, q=None) -> dict:
    """People the actor manages, filtered, a page at a time."""
    manager = actor.user
    conditions = []
    if manager.role == BLOCK_PRESIDENT:
        conditions += [User.role == VOLUNTEER, Unit.block_id == manager.unit_id]
    elif manager.role not in MANAGER_ROLES:
        raise forbidden()
    if role:
        conditions.append(User.role == role)
    if unit_id is not None:
        conditions.append(_units_inside(_unit(unit_id)))
    if q:
        conditions.append(
            or_(
                contains_text(User.name, q, fold_in_database=True),
                contains_text(User.phone, q, fold_in_database=True),
            )
        )
    order = (User.name, User.id)
    return paginate(User, conditions, order, page, per_page, join=[(Unit, User.unit_id == Unit.id)])


def create_user(actor: Actor, values: dict) -> User:
    """Add a person; a block president may add only volunteers for its own block's booths."""
    unit = _unit(values["unit_id"])
    roles.check_grant(actor.user, values["role"])
    if not manages(actor.user, values["role"], unit):
        raise forbidden("You may add only volunteers for booths of your own block.")
    user = add_user(values, unit, created_by=actor.user.id)
    log_change(actor, "create", "user", user.id, fields=("name", "phone", "role", "unit_id"))
    db.session.commit()
    log.info("User %s (%s) created by user %s", user.id, user.role, actor.user.id)
    return user


def add_user(values: dict, unit: Unit, created_by=None) -> User:
    """Add a person without checking who asks (the API checks first; the command line is trusted)."""
    check_role_fits_unit(values["role"], unit)
    if db.session.scalar(select(User.id).where(User.phone == values["phone"])) is not None:
        raise _phone_taken()
    now = now_ms()
    user = User(
        phone=values["phone"],
        name=values["name"],
        password_hash=passwords.hash_password(values["password"]),
        role=values["role"],
        unit_id=unit.id,
        language="hi",
        active=True,
        scope_version=1,
        created_at=now,
        updated_at=now,
        created_by=created_by,
    )
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError as exc:
        # Two people adding the same phone at once: the unique index decides.
        db.session.rollback()
        raise _phone_taken() from exc
    return user


def set_active(actor: Actor, user_id: int, active: bool) -> User:
    """Disable (ending every session) or enable a person the actor manages."""
    target = _managed_user(actor, user_id)
    roles.check_may_change(actor.user, target, {"active": active})
    if target.active != active:
        roles.check_admin_remains(target, {"active": active})
        now = now_ms()
        target.active = active
        target.updated_at = now
        if not active:
            # Moving every generation on keeps old tokens dead should the account be
            # enabled again.
            for device in db.session.scalars(select(Device).where(Device.user_id == target.id)):
                end_sessions(device, now)
        log_change(actor, "enable" if active else "disable", "user", target.id, fields=("active",))
        db.session.commit()
        log.info(
            "User %s %s by user %s", target.id, "enabled" if active else "disabled", actor.user.id
        )
    return target


def update_user(actor: Actor, user_id: int, values: dict) -> User:
    """Change a person's role, unit or name (admin and Connect Centre)."""
    target = _managed_user(actor, user_id)
    roles.check_may_change(actor.user, target, values)
    role = values.get("role", target.role)
    unit = _unit(values["unit_id"]) if "unit_id" in values else target.unit
    check_role_fits_unit(role, unit, field="unit_id" if "unit_id" in values else "role")
    changed = sorted(name for name, value in values.items() if getattr(target, name) != value)
    if changed:
        roles.check_admin_remains(target, values)
        for name in changed:
            setattr(target, name, values[name])
        if {"role", "unit_id"} & set(changed):
            # Devices pulling under the old scope get `reset` and fetch the new one.
            target.scope_version += 1
        target.updated_at = now_ms()
        log_change(actor, "update", "user", target.id, fields=changed)
        db.session.commit()
    return target


def check_role_fits_unit(role, unit, field="unit_id"):
    wanted = ROLE_UNIT_TYPE[role]
    if unit.type != wanted:
        raise validation_error({field: [f"A {role}'s unit must be a {wanted}, not a {unit.type}."]})


def _managed_user(actor, user_id) -> User:
    target = db.session.get(User, user_id)
    # Outside the manager's reach a person is not shown at all, as in the list.
    if target is None or not manages(actor.user, target.role, target.unit):
        raise not_found("person")
    return target


def _unit(unit_id) -> Unit:
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        raise validation_error({"unit_id": ["No such unit."]})
    return unit


def _units_inside(unit):
    """A SQL condition on Unit: the unit itself and every unit under it."""
    return within_condition(unit, Unit, include_self=True)
