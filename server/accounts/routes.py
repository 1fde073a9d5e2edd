"""HTTP routes for accounts: sessions, devices, the person's own settings, people."""

from flask import Blueprint, request
from flask_jwt_extended import get_jwt

from server.accounts import people, sessions
from server.accounts.models import ADMIN, CONNECT_CENTRE
from server.accounts.roles import PEOPLE_ROLES
from server.accounts.schemas import (
    DeviceList,
    DeviceListArgs,
    DeviceRecord,
    LoginArgs,
    MeAnswer,
    MeUpdateArgs,
    SessionAnswer,
    TokenPair,
    UserCreateArgs,
    UserListArgs,
    UserPage,
    UserRecord,
    UserUpdateArgs,
)
from server.api import arguments, response
from server.auth import current_actor, login_required
from sync.scope import ROLE_LISTS

bp = Blueprint("accounts", __name__, url_prefix="/api")


@bp.post("/auth/login")
@arguments(LoginArgs())
@response(SessionAnswer())
def login(body):
    """Log in with phone and password on this device."""
    return sessions.login(address=request.remote_addr, **body)


@bp.post("/auth/refresh")
@login_required(refresh=True)
@response(TokenPair())
def refresh():
    """Exchange the refresh token for a new pair."""
    return sessions.refresh_session(current_actor(), get_jwt()["jti"])


@bp.post("/auth/logout")
@login_required()
@response(None, 204)
def logout():
    """Log out on this device."""
    sessions.logout(current_actor())


def _me(actor) -> dict:
    """The person, the device, and the role lists the app uses (it keeps no copy)."""
    return {"user": actor.user, "device": actor.device, "role_lists": ROLE_LISTS}


@bp.get("/me")
@login_required()
@response(MeAnswer())
def me():
    """Show who you are, your unit with the units above it, this device, and the role lists."""
    return _me(current_actor())


@bp.patch("/me")
@login_required()
@arguments(MeUpdateArgs())
@response(MeAnswer())
def update_me(body):
    """Change your own name or language."""
    return _me(people.update_profile(current_actor(), body))


@bp.get("/devices")
@login_required()
@arguments(DeviceListArgs(), location="query")
@response(DeviceList())
def list_devices(args):
    """List your devices (admin and Connect Centre: anyone's not ranked above, with user_id)."""
    return sessions.list_devices(current_actor(), **args)


@bp.post("/devices/<device_id>/revoke")
@login_required()
@response(DeviceRecord())
def revoke_device(device_id):
    """Sign a device out for good, such as a lost phone."""
    # Device ids are kept in lower case (the login schema lowers them): so is this one.
    return sessions.revoke_device(current_actor(), device_id.lower())


@bp.get("/users")
@login_required(*PEOPLE_ROLES)
@arguments(UserListArgs(), location="query")
@response(UserPage())
def list_users(args):
    """List the people you manage, a page at a time."""
    return people.list_users(current_actor(), **args)


@bp.post("/users")
@login_required(*PEOPLE_ROLES)
@arguments(UserCreateArgs())
@response(UserRecord(), 201)
def create_user(body):
    """Add a person with a role and a unit."""
    return people.create_user(current_actor(), body)


@bp.post("/users/<int:user_id>/disable")
@login_required(*PEOPLE_ROLES)
@response(UserRecord())
def disable_user(user_id):
    """Disable a person's account and end all of their sessions."""
    return people.set_active(current_actor(), user_id, False)


@bp.post("/users/<int:user_id>/enable")
@login_required(*PEOPLE_ROLES)
@response(UserRecord())
def enable_user(user_id):
    """Enable a disabled account again."""
    return people.set_active(current_actor(), user_id, True)


@bp.patch("/users/<int:user_id>")
@login_required(ADMIN, CONNECT_CENTRE)
@arguments(UserUpdateArgs())
@response(UserRecord())
def update_user(user_id, body):
    """Change a person's role, unit or name."""
    return people.update_user(current_actor(), user_id, body)
