"""Accounts: log in, rotate and end sessions, revoke devices, and manage people."""

import logging
import math
import uuid
from dataclasses import dataclass

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token
from sqlalchemy import func, or_, select, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from server.accounts import limits, passwords, roles
from server.accounts.models import (
    ADMIN,
    BLOCK_PRESIDENT,
    CONNECT_CENTRE,
    ROLE_UNIT_TYPE,
    VOLUNTEER,
    Device,
    RefreshToken,
    User,
)
from server.audit.services import log_change
from server.auth import Actor, device_revoked_error, token_invalid_error
from server.errors import ApiError, forbidden, not_found, validation_error
from server.extensions import db
from server.geo.models import ASSEMBLY, BLOCK, BOOTH, DISTRICT, LOK_SABHA, PANCHAYAT, STATE, Unit
from server.records import now_ms

log = logging.getLogger(__name__)

# Roles that manage people and devices anywhere in the state.
MANAGER_ROLES = (ADMIN, CONNECT_CENTRE)
# Roles that may list, add, disable and enable people (a block president only its
# block's volunteers).
PEOPLE_ROLES = (ADMIN, CONNECT_CENTRE, BLOCK_PRESIDENT)
# How long after a refresh the same refresh token may be presented again without
# counting as reuse, provided the token it was exchanged for was never used: on 2G the
# answer to a refresh is often lost and the app retries. Revoking then would wipe the
# phone's unsent outbox for nothing.
DEFAULT_REFRESH_RETRY_SECONDS = 120


@dataclass
class Session:
    """What a login or a refresh hands the app."""

    access_token: str
    refresh_token: str
    user: User
    device: Device


def _invalid_credentials():
    return ApiError("invalid_credentials", "Wrong phone number or password.", 401)


def _phone_taken():
    return ApiError("phone_taken", "This phone number already has an account.", 409)


# Sessions


def _register_device(device_id, user, device_name, now) -> Device:
    """Insert the device row, tolerating a second login of the same new device at once."""
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    db.session.execute(
        insert(Device)
        .values(
            id=device_id,
            user_id=user.id,
            name=device_name,
            created_at=now,
            last_seen_at=now,
            token_generation=1,
            last_seq=0,
        )
        .on_conflict_do_nothing()
    )
    device = db.session.execute(
        select(Device).where(Device.id == device_id).with_for_update()
    ).scalar_one()
    if device.user_id != user.id:
        raise ApiError(
            "device_in_use", "This device id belongs to another account; make a new one.", 409
        )
    return device


def login(phone, password, device_id, device_name, address) -> Session:
    """Check the password and start a session on this device; limits are checked first."""
    now = now_ms()
    address = (address or "unknown")[:64]
    user = db.session.scalar(select(User).where(User.phone == phone))
    device = db.session.get(Device, device_id)
    # The account's own (unrevoked) devices are spared the per-phone delay: see limits.
    known = (
        user is not None
        and device is not None
        and device.user_id == user.id
        and device.revoked_at is None
    )
    limits.check(phone, address, now, known_device=known)
    # An unknown phone still costs one hash check, so the answer time tells nothing.
    valid = passwords.verify_password(user.password_hash if user else None, password)
    if not valid or not user.active:
        limits.record_failure(phone, address, now)
        db.session.commit()
        log.info("Failed login for phone ending %s from %s", phone[-4:], address)
        raise _invalid_credentials()
    if device is not None and device.user_id != user.id:
        raise ApiError(
            "device_in_use", "This device id belongs to another account; make a new one.", 409
        )
    if device is not None and device.revoked_at is not None:
        raise device_revoked_error()
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    limits.clear(phone, address)
    if device is None:
        device = _register_device(device_id, user, device_name, now)
    else:
        # A new login on a known device starts a new session: the old one's tokens end.
        _end_sessions(device, now)
        device.name = device_name or device.name
        device.last_seen_at = now
    access, refresh, _jti = _issue_tokens(user, device, now)
    log_change(Actor(user, device), "login", "device", device.id)
    db.session.commit()
    return Session(access, refresh, user, device)


def refresh_session(actor: Actor, jti: str) -> Session:
    """Exchange a refresh token for a new pair; a spent one presented again revokes the device."""
    now = now_ms()
    device = actor.device
    token = db.session.get(RefreshToken, jti)
    if token is None or token.device_id != device.id:
        raise token_invalid_error()
    if not _spend(jti, now):
        db.session.refresh(token)
        # A retry whose first answer was lost: the successor, never used, is ended
        # instead. Once the successor has been used, this is reuse.
        if not _is_retry(token, now) or not _spend(token.replaced_by, now):
            _revoke_after_reuse(actor, now)
    access, refresh, new_jti = _issue_tokens(actor.user, device, now)
    token.replaced_by = new_jti
    device.last_seen_at = now
    db.session.commit()
    return Session(access, refresh, actor.user, device)


def logout(actor: Actor):
    """End this device's session: its access and refresh tokens stop working."""
    _end_sessions(actor.device, now_ms())
    log_change(actor, "logout", "device", actor.device.id)
    db.session.commit()


def _issue_tokens(user, device, now):
    claims = {"dev": device.id, "gen": device.token_generation}
    jti = str(uuid.uuid4())
    access = create_access_token(identity=user, additional_claims=claims)
    refresh = create_refresh_token(identity=user, additional_claims={**claims, "jti": jti})
    lifetime = current_app.config["JWT_REFRESH_TOKEN_EXPIRES"]
    db.session.add(
        RefreshToken(
            jti=jti,
            device_id=device.id,
            issued_at=now,
            expires_at=now + int(lifetime.total_seconds() * 1000),
        )
    )
    return access, refresh, jti


def _spend(jti, now) -> bool:
    """Mark an unspent refresh token spent; False when it already was (one winner in a race)."""
    result = db.session.execute(
        update(RefreshToken)
        .where(RefreshToken.jti == jti, RefreshToken.spent_at.is_(None))
        .values(spent_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _is_retry(token, now) -> bool:
    grace = current_app.config.get("REFRESH_RETRY_SECONDS", DEFAULT_REFRESH_RETRY_SECONDS)
    return token.replaced_by is not None and now - token.spent_at <= grace * 1000


def _end_sessions(device, now):
    """Move the device's token generation on and spend its refresh tokens."""
    device.token_generation += 1
    db.session.execute(
        update(RefreshToken)
        .where(RefreshToken.device_id == device.id, RefreshToken.spent_at.is_(None))
        .values(spent_at=now)
        .execution_options(synchronize_session=False)
    )


def _revoke_after_reuse(actor, now):
    device = actor.device
    device.revoked_at = now
    _end_sessions(device, now)
    log_change(actor, "revoke_on_reuse", "device", device.id, fields=("revoked_at",))
    db.session.commit()
    log.warning(
        "A spent refresh token was presented again: device %s of user %s is revoked",
        device.id,
        actor.user.id,
    )
    raise device_revoked_error()


# Devices


def list_devices(actor: Actor, user_id=None) -> dict:
    """The devices of the actor, or (for admin and Connect Centre) of anyone not ranked above."""
    if user_id is None or user_id == actor.user.id:
        owner = actor.user
    elif actor.user.role in MANAGER_ROLES:
        owner = db.session.get(User, user_id)
        if owner is None:
            raise not_found("person")
        roles.check_rank(actor.user, owner)
    else:
        raise forbidden("You may list only your own devices.")
    devices = db.session.scalars(
        select(Device)
        .where(Device.user_id == owner.id)
        .order_by(Device.last_seen_at.desc(), Device.id)
    ).all()
    return {"items": devices}


def revoke_device(actor: Actor, device_id: str) -> Device:
    """Sign a device out for good (a lost phone): its tokens get `device_revoked`.

    Admin and Connect Centre may revoke anyone's device but those of a higher rank.
    """
    device = db.session.get(Device, device_id)
    # Someone else's device is not shown to people who may not revoke it.
    if device is None or (device.user_id != actor.user.id and actor.user.role not in MANAGER_ROLES):
        raise not_found("device")
    roles.check_rank(actor.user, device.user)
    if device.revoked_at is None:
        now = now_ms()
        device.revoked_at = now
        device.revoked_by = actor.user.id
        _end_sessions(device, now)
        log_change(actor, "revoke", "device", device.id, fields=("revoked_at",))
        db.session.commit()
        log.info(
            "Device %s of user %s revoked by user %s", device.id, device.user_id, actor.user.id
        )
    return device


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
    query = select(User).join(Unit, User.unit_id == Unit.id)
    if manager.role == BLOCK_PRESIDENT:
        query = query.where(User.role == VOLUNTEER, Unit.block_id == manager.unit_id)
    elif manager.role not in MANAGER_ROLES:
        raise forbidden()
    if role:
        query = query.where(User.role == role)
    if unit_id is not None:
        query = query.where(_units_inside(_unit(unit_id)))
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            or_(User.name.ilike(pattern, escape="\\"), User.phone.like(pattern, escape="\\"))
        )
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    items = db.session.scalars(
        query.order_by(User.name, User.id).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return {
        "items": items,
        "page": page,
        "per_page": per_page,
        "total": total,
        "pages": math.ceil(total / per_page),
    }


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
                _end_sessions(device, now)
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
    if unit.type == STATE:
        return true()
    if unit.type == DISTRICT:
        return or_(Unit.id == unit.id, Unit.district_id == unit.id)
    if unit.type == BLOCK:
        return or_(Unit.id == unit.id, Unit.block_id == unit.id)
    if unit.type == PANCHAYAT:
        return or_(Unit.id == unit.id, Unit.parent_id == unit.id)
    if unit.type == ASSEMBLY:
        return or_(Unit.id == unit.id, Unit.assembly_id == unit.id)
    if unit.type == LOK_SABHA:
        seat = aliased(Unit)
        seats = select(seat.id).where(seat.parent_id == unit.id, seat.type == ASSEMBLY)
        return or_(Unit.id == unit.id, Unit.assembly_id.in_(seats))
    return Unit.id == unit.id
