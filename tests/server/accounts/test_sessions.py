"""Sessions: refresh rotation, reuse, logout, revoked devices and disabled accounts, bad tokens."""

import re
import uuid
from datetime import timedelta

import jwt as pyjwt
import pytest
from flask_jwt_extended import create_access_token, create_refresh_token
from sqlalchemy import select

from server.accounts.models import Device, RefreshToken
from server.audit.models import AuditEntry
from server.extensions import db
from tests.server.accounts.conftest import bearer


def _code(response):
    return response.json["error"]["code"]


def _refresh(client, headers):
    return client.post("/api/auth/refresh", headers=headers)


def _pair(response):
    assert response.status_code == 200, response.json
    return bearer(response.json["access_token"]), bearer(response.json["refresh_token"])


def test_refresh_gives_a_new_pair_and_spends_the_old_refresh_token(make, session, client):
    user = make.user()
    _access, refresh, device_id = session(user)

    new_access, new_refresh = _pair(_refresh(client, refresh))

    assert client.get("/api/me", headers=new_access).status_code == 200
    tokens = db.session.scalars(
        select(RefreshToken)
        .where(RefreshToken.device_id == device_id)
        .order_by(RefreshToken.issued_at)
    ).all()
    assert len(tokens) == 2
    assert sorted(t.spent_at is None for t in tokens) == [False, True]
    assert _pair(_refresh(client, new_refresh))


def test_reuse_of_a_spent_refresh_token_revokes_the_device(make, session, client):
    user = make.user()
    _access, first, device_id = session(user)
    second_access, second = _pair(_refresh(client, first))
    third_access, _third = _pair(_refresh(client, second))

    # `first` was exchanged, and what it was exchanged for was used: someone copied it.
    response = _refresh(client, first)

    assert response.status_code == 401
    assert _code(response) == "device_revoked"
    device = db.session.get(Device, device_id)
    assert device.revoked_at is not None
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "revoke_on_reuse"))
    assert entry.record_id == device_id
    for headers in (second_access, third_access):
        assert _code(client.get("/api/me", headers=headers)) == "device_revoked"


def test_reuse_after_the_retry_grace_revokes_the_device(make, session, client, settings):
    settings(REFRESH_RETRY_SECONDS=0)
    user = make.user()
    _access, first, device_id = session(user)
    _pair(_refresh(client, first))

    response = _refresh(client, first)

    assert response.status_code == 401
    assert _code(response) == "device_revoked"
    assert db.session.get(Device, device_id).revoked_at is not None


def test_a_retried_refresh_whose_answer_was_lost_gets_a_new_pair(make, session, client):
    user = make.user()
    _access, first, device_id = session(user)
    _lost_access, lost_refresh = _pair(_refresh(client, first))

    # The answer never reached the phone, which sends the same refresh token again.
    access, refresh = _pair(_refresh(client, first))

    assert client.get("/api/me", headers=access).status_code == 200
    assert _pair(_refresh(client, refresh))
    assert db.session.get(Device, device_id).revoked_at is None
    # The pair from the lost answer never reached the phone: if it turns up, it was copied.
    response = _refresh(client, lost_refresh)
    assert _code(response) == "device_revoked"


def test_logout_ends_the_access_and_refresh_tokens_of_the_device(make, session, client):
    user = make.user()
    access, refresh, device_id = session(user)
    other_access, _, _ = session(user)

    response = client.post("/api/auth/logout", headers=access)

    assert response.status_code == 204
    assert response.data == b""
    for response in (client.get("/api/me", headers=access), _refresh(client, refresh)):
        assert response.status_code == 401
        assert _code(response) == "token_revoked"
    # Only this device: the person's other phone stays logged in.
    assert client.get("/api/me", headers=other_access).status_code == 200
    assert db.session.get(Device, device_id).revoked_at is None
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "logout"))


def test_an_expired_refresh_token_means_logging_in_again(make, app, client):
    user = make.user()
    device = make.device(user)
    jti = str(uuid.uuid4())
    db.session.add(RefreshToken(jti=jti, device_id=device.id, expires_at=make.now() - 1000))
    db.session.commit()
    token = create_refresh_token(
        identity=user,
        additional_claims={"dev": device.id, "gen": device.token_generation, "jti": jti},
        expires_delta=timedelta(seconds=-1),
    )

    response = _refresh(client, bearer(token))

    assert response.status_code == 401
    assert _code(response) == "session_expired"


def test_an_expired_access_token_asks_for_a_refresh(make, client):
    user = make.user()
    device = make.device(user)
    token = create_access_token(
        identity=user,
        additional_claims={"dev": device.id, "gen": device.token_generation},
        expires_delta=timedelta(seconds=-1),
    )

    response = client.get("/api/me", headers=bearer(token))

    assert response.status_code == 401
    assert _code(response) == "token_expired"


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer not.a.jwt",
        "Bearer " + pyjwt.encode({"sub": "1", "type": "access"}, "x" * 32, algorithm="HS256"),
        "Bearer one two",
    ],
    ids=["garbage", "signed-by-another-key", "two-parts"],
)
def test_a_token_that_is_not_ours_is_invalid(client, authorization):
    response = client.get("/api/me", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.json == {
        "error": {"code": "token_invalid", "message": "The token is not valid.", "fields": {}}
    }


def test_no_token_at_all_is_unauthorized(client):
    response = client.get("/api/me")
    assert response.status_code == 401
    assert _code(response) == "unauthorized"


def test_tokens_of_the_wrong_type_are_invalid(make, session, client):
    user = make.user()
    access, refresh, _ = session(user)

    as_access = client.get("/api/me", headers=refresh)
    as_refresh = _refresh(client, access)

    assert (as_access.status_code, _code(as_access)) == (401, "token_invalid")
    assert (as_refresh.status_code, _code(as_refresh)) == (401, "token_invalid")


def test_a_token_without_a_device_is_invalid(make, client):
    user = make.user()
    token = create_access_token(identity=user)

    response = client.get("/api/me", headers=bearer(token))

    assert (response.status_code, _code(response)) == (401, "token_invalid")


# Devices


def test_a_lost_phone_is_revoked_from_another_and_its_tokens_stop(make, session, client):
    user = make.user()
    lost_access, lost_refresh, lost_id = session(user)
    access, _, current_id = session(user)

    listed = client.get("/api/devices", headers=access)
    assert listed.status_code == 200
    assert {d["id"] for d in listed.json["items"]} == {lost_id, current_id}

    response = client.post(f"/api/devices/{lost_id}/revoke", headers=access)

    assert response.status_code == 200
    assert response.json["revoked_at"] is not None
    for response in (client.get("/api/me", headers=lost_access), _refresh(client, lost_refresh)):
        assert (response.status_code, _code(response)) == (401, "device_revoked")
    assert client.get("/api/me", headers=access).status_code == 200
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "revoke"))
    assert (entry.record_id, entry.device_id) == (lost_id, current_id)


def test_admin_lists_and_revokes_anyones_devices(make, session, client):
    volunteer = make.user()
    v_access, _, v_device = session(volunteer)
    admin_access, _, _ = session(make.user("admin"))

    listed = client.get(f"/api/devices?user_id={volunteer.id}", headers=admin_access)
    assert [d["id"] for d in listed.json["items"]] == [v_device]

    assert client.post(f"/api/devices/{v_device}/revoke", headers=admin_access).status_code == 200
    assert _code(client.get("/api/me", headers=v_access)) == "device_revoked"
    assert db.session.get(Device, v_device).revoked_by is not None


def test_a_revoked_device_gets_device_revoked_on_every_endpoint(app, make, session, client):
    user = make.user("admin")
    access, refresh, device_id = session(user)
    other_access, _, _ = session(user)
    assert client.post(f"/api/devices/{device_id}/revoke", headers=other_access).status_code == 200

    checked, wrong = 0, []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if not getattr(view, "api_auth", False):
            continue
        headers = refresh if getattr(view, "api_token", "access") == "refresh" else access
        path = re.sub(r"<int:[a-z_]+>", "1", rule.rule)
        path = re.sub(r"<(?:[a-z]+:)?[a-z_]+>", str(uuid.uuid4()), path)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method, headers=headers, json={})
            checked += 1
            if response.status_code != 401 or _code(response) != "device_revoked":
                wrong.append((method, path, response.status_code, response.json))
    assert checked >= 12
    assert wrong == []


# Disabled accounts


def test_disabling_ends_every_session_and_enabling_needs_a_new_login(make, session, client, login):
    admin_access, _, _ = session(make.user("admin"))
    user = make.user()
    phone_access, phone_refresh, _ = session(user)
    tablet_access, _, _ = session(user)

    assert client.post(f"/api/users/{user.id}/disable", headers=admin_access).status_code == 200

    for response in (
        client.get("/api/me", headers=phone_access),
        client.get("/api/me", headers=tablet_access),
        _refresh(client, phone_refresh),
    ):
        assert (response.status_code, _code(response)) == (401, "account_disabled")
    assert _code(login(user.phone)) == "invalid_credentials"

    assert client.post(f"/api/users/{user.id}/enable", headers=admin_access).status_code == 200

    # Old sessions stay ended; the person logs in afresh.
    assert _code(client.get("/api/me", headers=phone_access)) == "token_revoked"
    assert _code(_refresh(client, phone_refresh)) == "token_revoked"
    assert login(user.phone).status_code == 200
