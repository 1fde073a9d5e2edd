"""Sessions and devices: log in, rotate and end sessions, list and revoke devices."""

import logging
import uuid
from dataclasses import dataclass

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from server.accounts import limits, passwords, roles
from server.accounts.models import Device, RefreshToken, User
from server.accounts.roles import MANAGER_ROLES
from server.audit.services import log_change
from server.auth import Actor, device_revoked_error, token_invalid_error
from server.errors import ApiError, forbidden, not_found
from server.extensions import db
from server.records import now_ms

log = logging.getLogger(__name__)

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


def _invalid_credentials():
    return ApiError("invalid_credentials", "Wrong phone number or password.", 401)


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
        end_sessions(device, now)
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
    end_sessions(actor.device, now_ms())
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


def end_sessions(device, now):
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
    end_sessions(device, now)
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
        end_sessions(device, now)
        log_change(actor, "revoke", "device", device.id, fields=("revoked_at",))
        db.session.commit()
        log.info(
            "Device %s of user %s revoked by user %s", device.id, device.user_id, actor.user.id
        )
    return device
