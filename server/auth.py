"""Who is asking: JWT identity, device checks, and the role and scope guards for views.

Every token names its device (`dev`) and the device's token generation (`gen`). A
token stops working when its device is revoked (`device_revoked`, the app then wipes
its data), when its account is disabled (`account_disabled`), or when the device's
generation moves on at logout or a new login (`token_revoked`).
"""

import functools
from dataclasses import dataclass

from flask import g
from flask_jwt_extended import verify_jwt_in_request

from server.accounts.models import Device, User
from server.errors import ApiError, error_response
from server.extensions import db, jwt


@dataclass
class Actor:
    """The person acting and the device they act from (None for the command line)."""

    user: User
    device: Device | None

    @property
    def device_id(self):
        return self.device.id if self.device else None


def _auth_error(code, message):
    return ApiError(code, message, 401)


def device_revoked_error():
    return _auth_error("device_revoked", "This device has been signed out; log in again.")


def token_invalid_error():
    return _auth_error("token_invalid", "The token is not valid.")


def token_revoked_error():
    return _auth_error("token_revoked", "This session has ended; log in again.")


def init_app(app):
    @jwt.user_identity_loader
    def _identity(user):
        return str(user.id) if isinstance(user, User) else str(user)

    @jwt.token_in_blocklist_loader
    def _check_device(_header, payload):
        # Raising here (rather than returning True) lets each reason keep its own code.
        device_id, user_id = payload.get("dev"), payload.get("sub")
        if not isinstance(device_id, str) or not isinstance(user_id, str) or not user_id.isdigit():
            raise token_invalid_error()
        device = db.session.get(Device, device_id)
        if device is None:
            raise token_revoked_error()
        if str(device.user_id) != user_id:
            raise token_invalid_error()
        if device.revoked_at is not None:
            raise device_revoked_error()
        user = db.session.get(User, device.user_id)
        # Before the generation: disabling also moves every generation on, and the
        # person should learn the real reason.
        if user is None or not user.active:
            raise _auth_error("account_disabled", "This account is disabled.")
        if payload.get("gen") != device.token_generation:
            raise token_revoked_error()
        g.actor = Actor(user, device)
        return False

    @jwt.expired_token_loader
    def _expired(_header, payload):
        if payload.get("type") == "refresh":
            return error_response(
                _auth_error("session_expired", "Your session has expired; log in again.")
            )
        return error_response(
            _auth_error("token_expired", "The access token has expired; refresh it.")
        )

    # Bad signature, garbage, a refresh token where an access token belongs (or the
    # reverse), a malformed Authorization header.
    @jwt.invalid_token_loader
    def _invalid(_reason):
        return error_response(token_invalid_error())

    @jwt.unauthorized_loader
    def _missing(_reason):
        return error_response(_auth_error("unauthorized", "Log in first."))

    # The blocklist loader raises its own errors, and fresh tokens, user lookups and
    # claim checks are not used; these keep the one error shape should that change.
    @jwt.revoked_token_loader
    def _revoked(_header, _payload):
        return error_response(token_revoked_error())

    @jwt.needs_fresh_token_loader
    def _needs_fresh(_header, _payload):
        return error_response(_auth_error("unauthorized", "Log in again to do this."))

    @jwt.user_lookup_error_loader
    def _lookup_failed(_header, _payload):
        return error_response(token_invalid_error())

    @jwt.token_verification_failed_loader
    def _verification_failed(_header, _payload):
        return error_response(token_invalid_error())


def current_actor() -> Actor:
    return g.actor


def login_required(*roles, refresh=False):
    """Require a valid token of a live device; with roles, require one of them.

    With `refresh=True` the view takes a refresh token instead of an access token.
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            verify_jwt_in_request(refresh=refresh)
            if roles and g.actor.user.role not in roles:
                raise ApiError("forbidden", "Your role may not do this.", 403)
            return view(*args, **kwargs)

        wrapper.api_roles = roles or ("any",)
        wrapper.api_auth = True
        wrapper.api_token = "refresh" if refresh else "access"
        for attr in ("api_arguments", "api_response"):
            if hasattr(view, attr):
                setattr(wrapper, attr, getattr(view, attr))
        return wrapper

    return decorator
