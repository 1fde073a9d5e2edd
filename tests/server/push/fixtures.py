"""Fixtures shared by the push and meeting-alert tests: a VAPID key, the stand-in push
service, a controllable clock, and helpers to subscribe phones and make meetings."""

import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from server.extensions import db
from server.meetings.models import Meeting
from server.push.vapid import b64url, public_key_b64
from server.push.worker import PushWorker
from tests.server.push.standin import PushServiceStandin

HOUR_MS = 3600 * 1000
BASE_MS = 1_900_000_000_000  # 2030-03-17: a fixed "now" for the controllable clock


class Clock:
    """time.time() stand-in for the worker; only scheduling and TTLs read it."""

    def __init__(self, ms=BASE_MS):
        self.ms = ms

    def __call__(self) -> float:
        return self.ms / 1000

    def advance(self, ms):
        self.ms += ms


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def push_config(app, monkeypatch):
    """A fresh VAPID key and loopback push services allowed, for this test only."""
    key = ec.generate_private_key(ec.SECP256R1())
    raw = key.private_numbers().private_value.to_bytes(32, "big")
    monkeypatch.setitem(app.config, "VAPID_PRIVATE_KEY", b64url(raw))
    monkeypatch.setitem(
        app.config, "PUSH_ALLOWED_HOSTS", [*app.config["PUSH_ALLOWED_HOSTS"], "127.0.0.1"]
    )
    monkeypatch.setitem(app.config, "PUSH_SEND_CONCURRENCY", 8)
    return public_key_b64(key)


@pytest.fixture
def standin(client, push_config):
    """The stand-in push service, checking VAPID against the key the API publishes."""
    published = client.get("/api/push/key").json["public_key"]
    assert published == push_config
    with PushServiceStandin(published) as service:
        yield service


@pytest.fixture
def worker(app, clock, push_config):
    w = PushWorker(app, clock=clock)
    yield w
    w.sender.close()


def subscribe(client, make, standin, user, name=None):
    """Log `user` in on a new device and subscribe it on the stand-in; the device."""
    device = make.device(user)
    name = name or f"u{user.id}-{device.id[:8]}"
    response = client.post(
        "/api/push/subscriptions",
        json=standin.subscription(name),
        headers=make.headers(user, device),
    )
    assert response.status_code == 201, response.json
    return name


def make_meeting(organiser, unit, starts_at, roles=("volunteer",), **fields):
    meeting = Meeting(
        id=str(uuid.uuid4()),
        title=fields.pop("title", "बूथ समिति की बैठक"),
        agenda=fields.pop("agenda", "बूथ सूची की जाँच"),
        starts_at=starts_at,
        place=fields.pop("place", "प्रखंड कार्यालय"),
        unit_id=unit.id,
        audience_roles=list(roles),
        status=fields.pop("status", "scheduled"),
        created_by=organiser.id,
        version=1,
        **fields,
    )
    db.session.add(meeting)
    db.session.flush()
    return meeting
