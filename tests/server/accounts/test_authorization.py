"""Who may do what on the accounts endpoints: every role against targets inside and outside.

One table: a row per endpoint and target, a column per role, each cell the exact answer.
The acting roles sit at booth b1, block k1 and district d1 (all in district d1) or the
state. "in" targets are at booth b1 (inside every acting scope), "out" targets at booth
b4 (district d2, outside all but the state roles). District presidents oversee, but do
not manage people.
"""

import types

import pytest

from server.accounts.models import Device, User
from server.extensions import db
from tests.factories import PASSWORD

ROLES = ("volunteer", "block_president", "district_president", "connect_centre", "admin")

OK, CREATED, NO_CONTENT = (200, None), (201, None), (204, None)
FORBIDDEN, NOT_FOUND = (403, "forbidden"), (404, "not_found")


def _new(phone, role, unit):
    return {"phone": phone, "name": "नया", "password": PASSWORD, "role": role, "unit_id": unit}


# case: (method, path, body) built from the world, then the answer per role in ROLES order.
MATRIX = {
    "read me": (
        lambda w: ("GET", "/api/me", None),
        (OK, OK, OK, OK, OK),
    ),
    "change my language": (
        lambda w: ("PATCH", "/api/me", {"language": "en"}),
        (OK, OK, OK, OK, OK),
    ),
    "log out": (
        lambda w: ("POST", "/api/auth/logout", None),
        (NO_CONTENT, NO_CONTENT, NO_CONTENT, NO_CONTENT, NO_CONTENT),
    ),
    "list my devices": (
        lambda w: ("GET", "/api/devices", None),
        (OK, OK, OK, OK, OK),
    ),
    "list devices of someone in": (
        lambda w: ("GET", f"/api/devices?user_id={w.vol_in.id}", None),
        (FORBIDDEN, FORBIDDEN, FORBIDDEN, OK, OK),
    ),
    "list devices of someone out": (
        lambda w: ("GET", f"/api/devices?user_id={w.vol_out.id}", None),
        (FORBIDDEN, FORBIDDEN, FORBIDDEN, OK, OK),
    ),
    "revoke my other device": (
        lambda w: ("POST", f"/api/devices/{w.spare.id}/revoke", None),
        (OK, OK, OK, OK, OK),
    ),
    "revoke a device of someone in": (
        lambda w: ("POST", f"/api/devices/{w.vol_in_device.id}/revoke", None),
        (NOT_FOUND, NOT_FOUND, NOT_FOUND, OK, OK),
    ),
    "revoke a device of someone out": (
        lambda w: ("POST", f"/api/devices/{w.vol_out_device.id}/revoke", None),
        (NOT_FOUND, NOT_FOUND, NOT_FOUND, OK, OK),
    ),
    # The one rank rule (server/accounts/roles.py) on devices: none of a higher rank's.
    "list devices of an admin": (
        lambda w: ("GET", f"/api/devices?user_id={w.other_admin.id}", None),
        (FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK),
    ),
    "revoke a device of an admin": (
        lambda w: ("POST", f"/api/devices/{w.admin_device.id}/revoke", None),
        (NOT_FOUND, NOT_FOUND, NOT_FOUND, FORBIDDEN, OK),
    ),
    "revoke a device of an admin, in upper case": (
        lambda w: ("POST", f"/api/devices/{w.admin_device.id.upper()}/revoke", None),
        (NOT_FOUND, NOT_FOUND, NOT_FOUND, FORBIDDEN, OK),
    ),
    "list devices of a connect centre": (
        lambda w: ("GET", f"/api/devices?user_id={w.cc.id}", None),
        (FORBIDDEN, FORBIDDEN, FORBIDDEN, OK, OK),
    ),
    "revoke a device of a connect centre": (
        lambda w: ("POST", f"/api/devices/{w.cc_device.id}/revoke", None),
        (NOT_FOUND, NOT_FOUND, NOT_FOUND, OK, OK),
    ),
    "list people": (
        lambda w: ("GET", "/api/users", None),
        (FORBIDDEN, OK, FORBIDDEN, OK, OK),
    ),
    "add a volunteer in": (
        lambda w: ("POST", "/api/users", _new("9700000001", "volunteer", w.g.b1.id)),
        (FORBIDDEN, CREATED, FORBIDDEN, CREATED, CREATED),
    ),
    "add a volunteer out": (
        lambda w: ("POST", "/api/users", _new("9700000002", "volunteer", w.g.b4.id)),
        (FORBIDDEN, FORBIDDEN, FORBIDDEN, CREATED, CREATED),
    ),
    "add a block president in": (
        lambda w: ("POST", "/api/users", _new("9700000003", "block_president", w.g.k1.id)),
        (FORBIDDEN, FORBIDDEN, FORBIDDEN, CREATED, CREATED),
    ),
    "add an admin": (
        lambda w: ("POST", "/api/users", _new("9700000004", "admin", w.g.state.id)),
        (FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, CREATED),
    ),
    "add a connect centre": (
        lambda w: ("POST", "/api/users", _new("9700000005", "connect_centre", w.g.state.id)),
        (FORBIDDEN, FORBIDDEN, FORBIDDEN, CREATED, CREATED),
    ),
    "disable a volunteer in": (
        lambda w: ("POST", f"/api/users/{w.vol_in.id}/disable", None),
        (FORBIDDEN, OK, FORBIDDEN, OK, OK),
    ),
    "disable a volunteer out": (
        lambda w: ("POST", f"/api/users/{w.vol_out.id}/disable", None),
        (FORBIDDEN, NOT_FOUND, FORBIDDEN, OK, OK),
    ),
    "disable a block president in": (
        lambda w: ("POST", f"/api/users/{w.bp_in.id}/disable", None),
        (FORBIDDEN, NOT_FOUND, FORBIDDEN, OK, OK),
    ),
    "disable an admin": (
        lambda w: ("POST", f"/api/users/{w.other_admin.id}/disable", None),
        (FORBIDDEN, NOT_FOUND, FORBIDDEN, FORBIDDEN, OK),
    ),
    "enable an admin": (
        lambda w: ("POST", f"/api/users/{w.admin_off.id}/enable", None),
        (FORBIDDEN, NOT_FOUND, FORBIDDEN, FORBIDDEN, OK),
    ),
    "disable a connect centre": (
        lambda w: ("POST", f"/api/users/{w.cc.id}/disable", None),
        (FORBIDDEN, NOT_FOUND, FORBIDDEN, OK, OK),
    ),
    "enable a connect centre": (
        lambda w: ("POST", f"/api/users/{w.cc_off.id}/enable", None),
        (FORBIDDEN, NOT_FOUND, FORBIDDEN, OK, OK),
    ),
    "enable a volunteer in": (
        lambda w: ("POST", f"/api/users/{w.vol_in_off.id}/enable", None),
        (FORBIDDEN, OK, FORBIDDEN, OK, OK),
    ),
    "enable a volunteer out": (
        lambda w: ("POST", f"/api/users/{w.vol_out_off.id}/enable", None),
        (FORBIDDEN, NOT_FOUND, FORBIDDEN, OK, OK),
    ),
    "rename a volunteer in": (
        lambda w: ("PATCH", f"/api/users/{w.vol_in.id}", {"name": "नया नाम"}),
        (FORBIDDEN, FORBIDDEN, FORBIDDEN, OK, OK),
    ),
    "rename an admin": (
        lambda w: ("PATCH", f"/api/users/{w.other_admin.id}", {"name": "नया नाम"}),
        (FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK),
    ),
    "rename a connect centre": (
        lambda w: ("PATCH", f"/api/users/{w.cc.id}", {"name": "नया नाम"}),
        (FORBIDDEN, FORBIDDEN, FORBIDDEN, OK, OK),
    ),
    "make a volunteer an admin": (
        lambda w: (
            "PATCH",
            f"/api/users/{w.vol_in.id}",
            {"role": "admin", "unit_id": w.g.state.id},
        ),
        (FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK),
    ),
    "make myself an admin": (
        lambda w: ("PATCH", f"/api/users/{w.actor.id}", {"role": "admin", "unit_id": w.g.state.id}),
        (FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK),
    ),
    "move a volunteer out": (
        lambda w: ("PATCH", f"/api/users/{w.vol_out.id}", {"unit_id": w.g.b3.id}),
        (FORBIDDEN, FORBIDDEN, FORBIDDEN, OK, OK),
    ),
}


def _world(make, role):
    g = make.geo()
    actor = make.user(role)
    device = make.device(actor)
    vol_in, vol_out = make.user(unit=g.b1), make.user(unit=g.b4)
    other_admin, cc = make.user("admin"), make.user("connect_centre")
    return types.SimpleNamespace(
        g=g,
        actor=actor,
        other_admin=other_admin,
        admin_device=make.device(other_admin),
        cc=cc,
        cc_device=make.device(cc),
        cc_off=make.user("connect_centre", active=False),
        admin_off=make.user("admin", active=False),
        headers=make.headers(actor, device),
        spare=make.device(actor),
        vol_in=vol_in,
        vol_out=vol_out,
        vol_in_device=make.device(vol_in),
        vol_out_device=make.device(vol_out),
        bp_in=make.user("block_president", unit=g.k1),
        vol_in_off=make.user(unit=g.b1, active=False),
        vol_out_off=make.user(unit=g.b4, active=False),
    )


def _snapshot():
    """What a refused request must leave as it was."""
    db.session.rollback()
    db.session.expire_all()
    return (
        sorted((u.id, u.name, u.role, u.unit_id, u.active) for u in db.session.query(User)),
        sorted((d.id, d.revoked_at, d.token_generation) for d in db.session.query(Device)),
    )


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", list(MATRIX))
def test_authorization(make, client, case, role):
    world = _world(make, role)
    build, answers = MATRIX[case]
    method, path, body = build(world)
    expected_status, expected_code = answers[ROLES.index(role)]
    before = _snapshot()

    response = client.open(path, method=method, headers=world.headers, json=body)

    assert response.status_code == expected_status, response.json
    if expected_code is not None:
        assert response.json["error"]["code"] == expected_code
        assert _snapshot() == before
