"""Helpers for the accounts tests: log in over the API, tokens as headers, login limits."""

import uuid

import pytest

from tests.factories import PASSWORD

DEVICE_NAME = "Redmi 9A"
_UNSET = object()


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def login(client):
    """POST /api/auth/login; returns the response. A fresh device id unless one is given."""

    def _login(phone, password=PASSWORD, device_id=None, address="127.0.0.1", **extra):
        body = {
            "phone": phone,
            "password": password,
            "device_id": device_id or str(uuid.uuid4()),
            "device_name": DEVICE_NAME,
            **extra,
        }
        return client.post("/api/auth/login", json=body, environ_base={"REMOTE_ADDR": address})

    return _login


@pytest.fixture
def session(login):
    """Log `user` in on a new device; returns (access headers, refresh headers, device id)."""

    def _session(user, device_id=None):
        device_id = device_id or str(uuid.uuid4())
        response = login(user.phone, device_id=device_id)
        assert response.status_code == 200, response.json
        return (
            bearer(response.json["access_token"]),
            bearer(response.json["refresh_token"]),
            device_id,
        )

    return _session


@pytest.fixture
def settings(app):
    """Change app.config for one test (settings(KEY=value)); the old values come back after."""
    saved = {}

    def _set(**values):
        for key, value in values.items():
            saved.setdefault(key, app.config.get(key, _UNSET))
            app.config[key] = value

    yield _set
    for key, value in saved.items():
        if value is _UNSET:
            app.config.pop(key, None)
        else:
            app.config[key] = value
