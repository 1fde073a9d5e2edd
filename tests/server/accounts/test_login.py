"""Logging in: the answer the app stores, wrong credentials, devices, and the login limits."""

import logging
import uuid

from argon2 import PasswordHasher
from sqlalchemy import func, select

from server.accounts.models import Device, LoginAttempt, RefreshToken
from server.audit.models import AuditEntry
from server.extensions import db
from tests.factories import PASSWORD
from tests.server.accounts.conftest import DEVICE_NAME, bearer

DAY_MS = 24 * 3600 * 1000


def test_login_answers_tokens_and_the_person_with_the_hindi_unit_name(make, login, client):
    user = make.user("volunteer", name="सीता कुमारी")
    device_id = str(uuid.uuid4())

    response = login(user.phone, device_id=device_id)

    assert response.status_code == 200
    body = response.json
    assert set(body) == {"access_token", "refresh_token", "user"}
    g = make.geo()
    assert body["user"] == {
        "id": user.id,
        "name": "सीता कुमारी",
        "role": "volunteer",
        "language": "hi",
        "unit": {
            "id": g.b1.id,
            "type": "booth",
            "code": g.b1.code,
            "name": g.b1.name_hi,
            "name_en": "Booth 1",
        },
    }
    me = client.get("/api/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json["device"]["id"] == device_id


def test_login_registers_the_device_and_stores_the_refresh_token(make, login):
    user = make.user("block_president")
    device_id = str(uuid.uuid4())
    before = make.now()

    assert login(user.phone, device_id=device_id).status_code == 200

    device = db.session.get(Device, device_id)
    assert device.user_id == user.id
    assert device.name == DEVICE_NAME
    assert device.last_seen_at >= before
    (token,) = db.session.scalars(select(RefreshToken).where(RefreshToken.device_id == device_id))
    assert token.spent_at is None
    # 90 days by default: people go offline for weeks.
    assert 89 * DAY_MS < token.expires_at - before < 91 * DAY_MS
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "login"))
    assert (entry.user_id, entry.device_id) == (user.id, device_id)


def test_phone_is_accepted_with_country_code_spaces_and_dashes(make, login):
    user = make.user(phone="9876543210")
    assert login("+91 98765-43210").status_code == 200
    assert login("09876543210").status_code == 200
    assert user.id


def test_wrong_phone_and_wrong_password_get_the_same_answer(make, login):
    user = make.user()

    wrong_password = login(user.phone, password="not-the-password")
    wrong_phone = login("9999999999")

    assert wrong_password.status_code == wrong_phone.status_code == 401
    assert wrong_password.json == wrong_phone.json
    assert wrong_password.json["error"]["code"] == "invalid_credentials"


def test_a_disabled_account_is_not_told_apart_from_a_wrong_password(make, login):
    user = make.user(active=False)

    response = login(user.phone)

    assert response.status_code == 401
    assert response.json == login("9999999999").json


def test_device_id_of_another_person_is_refused(make, login):
    first, second = make.user(), make.user()
    device_id = str(uuid.uuid4())
    assert login(first.phone, device_id=device_id).status_code == 200

    response = login(second.phone, device_id=device_id)

    assert response.status_code == 409
    assert response.json["error"]["code"] == "device_in_use"
    assert db.session.get(Device, device_id).user_id == first.id


def test_a_revoked_device_cannot_log_in_again(make, login, session, client):
    user = make.user()
    _access, _refresh, device_id = session(user)
    other_access, _, _ = session(user)
    assert client.post(f"/api/devices/{device_id}/revoke", headers=other_access).status_code == 200

    response = login(user.phone, device_id=device_id)

    assert response.status_code == 401
    assert response.json["error"]["code"] == "device_revoked"
    assert login(user.phone).status_code == 200


def test_logging_in_again_on_the_same_device_ends_the_old_session(make, login, session, client):
    user = make.user()
    old_access, old_refresh, device_id = session(user)

    assert login(user.phone, device_id=device_id).status_code == 200

    for path, headers in (("/api/me", old_access), ("/api/auth/refresh", old_refresh)):
        method = client.get if path == "/api/me" else client.post
        response = method(path, headers=headers)
        assert response.status_code == 401
        assert response.json["error"]["code"] == "token_revoked"


def test_login_validation_names_each_field_and_stores_nothing(make, login, client):
    response = client.post(
        "/api/auth/login", json={"phone": "12345", "device_id": "not-a-uuid", "extra": 1}
    )

    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "validation_error"
    assert set(error["fields"]) == {"phone", "password", "device_id", "extra"}
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Device)) == 0
    assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == 0


def test_malformed_json_body_is_a_400(client):
    response = client.post(
        "/api/auth/login", data=b'{"phone": "98', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json["error"]["code"] == "malformed_json"


def test_the_password_is_never_logged(make, login, session, client, caplog):
    caplog.set_level(logging.DEBUG)
    admin = make.user("admin")
    access, _, _ = session(admin)
    login(admin.phone, password="secret-wrong-1")
    client.post(
        "/api/users",
        headers=access,
        json={
            "phone": "9800000001",
            "name": "नया",
            "password": "secret-new-22",
            "role": "volunteer",
            "unit_id": make.geo().b1.id,
        },
    )
    assert caplog.records, "the failed login and the new account are logged"
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "secret-wrong-1" not in text
    assert "secret-new-22" not in text
    assert PASSWORD not in text


# Login limits


def test_too_many_failures_for_a_phone_from_an_address_are_refused_before_the_password_is_checked(
    make, login, settings
):
    settings(LOGIN_LIMIT_PER_PHONE=2, LOGIN_LIMIT_PER_ADDRESS=100, LOGIN_LIMIT_WINDOW_SECONDS=60)
    user = make.user()
    assert login(user.phone, password="wrong-one").status_code == 401
    assert login(user.phone, password="wrong-two").status_code == 401

    # Even the right password is not tried now.
    response = login(user.phone)

    assert response.status_code == 429
    assert response.json["error"]["code"] == "too_many_requests"
    retry_after = int(response.headers["Retry-After"])
    assert 55 <= retry_after <= 60
    assert response.json["error"]["fields"]["retry_after"] == retry_after
    # Another person on the same address is not locked out by this phone.
    assert login(make.user().phone).status_code == 200


def test_too_many_failures_from_an_address_are_refused_for_every_phone(make, login, settings):
    settings(LOGIN_LIMIT_PER_PHONE=100, LOGIN_LIMIT_PER_ADDRESS=3, LOGIN_LIMIT_WINDOW_SECONDS=600)
    user = make.user()
    for phone in ("9811111111", "9822222222", "9833333333"):
        assert login(phone, address="10.1.1.1").status_code == 401

    refused = login(user.phone, address="10.1.1.1")

    assert refused.status_code == 429
    assert 595 <= int(refused.headers["Retry-After"]) <= 600
    assert login(user.phone, address="10.2.2.2").status_code == 200


def test_failures_older_than_the_window_do_not_count(make, login, settings):
    settings(LOGIN_LIMIT_PER_PHONE=2, LOGIN_LIMIT_PER_ADDRESS=100, LOGIN_LIMIT_WINDOW_SECONDS=60)
    user = make.user()
    long_ago = make.now() - 61_000
    db.session.add_all(
        LoginAttempt(phone=user.phone, address="127.0.0.1", at=long_ago) for _ in range(5)
    )
    db.session.commit()

    assert login(user.phone).status_code == 200


def test_retry_after_counts_down_to_when_the_oldest_counted_failure_expires(make, login, settings):
    settings(LOGIN_LIMIT_PER_PHONE=2, LOGIN_LIMIT_PER_ADDRESS=100, LOGIN_LIMIT_WINDOW_SECONDS=600)
    user = make.user()
    now = make.now()
    # Failures 500 s and 100 s ago: one more is allowed once the older leaves the window.
    for age in (500_000, 100_000):
        db.session.add(LoginAttempt(phone=user.phone, address="10.0.0.9", at=now - age))
    db.session.commit()

    response = login(user.phone, address="10.0.0.9")

    assert response.status_code == 429
    assert 95 <= int(response.headers["Retry-After"]) <= 100


def test_a_successful_login_clears_the_failures_of_that_phone(make, login, settings):
    settings(LOGIN_LIMIT_PER_PHONE=2, LOGIN_LIMIT_PER_ADDRESS=100, LOGIN_LIMIT_WINDOW_SECONDS=60)
    user = make.user()
    assert login(user.phone, password="wrong-one").status_code == 401
    assert login(user.phone).status_code == 200
    assert login(user.phone, password="wrong-two").status_code == 401

    # Without the clearing this would be the third failure in the window.
    assert login(user.phone).status_code == 200


def test_an_unknown_phone_costs_one_password_check_like_a_known_one(make, login, monkeypatch):
    # The answer time must not tell whether a phone has an account.
    checks, hashes = [], []
    real_verify, real_hash = PasswordHasher.verify, PasswordHasher.hash

    def counting_verify(self, hash, password):
        checks.append(password)
        return real_verify(self, hash, password)

    def counting_hash(self, password, **kw):
        hashes.append(password)
        return real_hash(self, password, **kw)

    monkeypatch.setattr(PasswordHasher, "verify", counting_verify)
    monkeypatch.setattr(PasswordHasher, "hash", counting_hash)
    user = make.user()
    hashes.clear()

    login(user.phone, password="wrong-password")
    login("9999999999", password="wrong-password")
    login("9999999998", password="wrong-password")

    assert checks == ["wrong-password"] * 3
    # The stand-in hash for unknown phones is made once, not on every attempt.
    assert len(hashes) <= 1
