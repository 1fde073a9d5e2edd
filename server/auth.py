"""Who is asking: JWT identity, device checks, and the role and scope guards for views."""

import functools
from dataclasses import dataclass

from flask import g
from flask_jwt_extended import verify_jwt_in_request

from server.accounts.models import Device, User
from server.errors import ApiError
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


def init_app(app):
    @jwt.user_identity_loader
    def _identity(user):
        return str(user.id) if isinstance(user, User) else str(user)

    @jwt.token_in_blocklist_loader
    def _check_device(_header, payload):
        # Raising here (rather than returning True) lets each reason keep its own code.
        device = db.session.get(Device, payload.get("dev"))
        if device is None:
            raise _auth_error("token_revoked", "This session has ended; log in again.")
        if device.revoked_at is not None:
            raise _auth_error(
                "device_revoked", "This device has been signed out by an administrator."
            )
        if payload.get("gen") != device.token_generation:
            raise _auth_error("token_revoked", "This session has ended; log in again.")
        user = db.session.get(User, int(payload["sub"]))
        if user is None or not user.active or device.user_id != user.id:
            raise _auth_error("account_disabled", "This account is disabled.")
        g.actor = Actor(user, device)
        return False

    @jwt.expired_token_loader
    def _expired(_header, payload):
        if payload.get("type") == "refresh":
            return _response(
                _auth_error("session_expired", "Your session has expired; log in again.")
            )
        return _response(_auth_error("token_expired", "The access token has expired; refresh it."))

    @jwt.invalid_token_loader
    def _invalid(reason):
        return _response(_auth_error("token_invalid", "The token is not valid."))

    @jwt.unauthorized_loader
    def _missing(reason):
        return _response(_auth_error("unauthorized", "Log in first."))


def _response(err):
    from server.errors import error_response

    return error_response(err)


def current_actor() -> Actor:
    return g.actor


def login_required(*roles, refresh=False):
    """Require a valid token of a live device; with roles, require one of them."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            verify_jwt_in_request(refresh=refresh)
            if roles and g.actor.user.role not in roles:
                raise ApiError("forbidden", "Your role may not do this.", 403)
            return view(*args, **kwargs)

        wrapper.api_roles = roles or ("any",)
        wrapper.api_auth = True
        for attr in ("api_arguments", "api_response"):
            if hasattr(view, attr):
                setattr(wrapper, attr, getattr(view, attr))
        return wrapper

    return decorator
