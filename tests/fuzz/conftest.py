"""The live server the fuzzer talks to: gunicorn on a throwaway PostgreSQL database with the
demo seed, and one logged-in session per role.

It reuses tests/server/syncing/server_process.py (the server and database the crash tests
run on); the sessions log in through POST /api/auth/login like the app does.
"""

import uuid
from dataclasses import dataclass, field

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec

from server.accounts.models import Device, User
from server.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from server.extensions import db
from server.geo.models import Unit
from server.push.vapid import b64url
from server.syncing.registry import MODELS
from tests.server.syncing.server_process import (
    GunicornServer,
    app_for,
    init_schema,
    postgres_reachable,
    throwaway_database,
)

ROLES = ("volunteer", "block_president", "district_president", "connect_centre", "admin")
# The demo account each role's session logs in as (server/demo.py).
ROLE_PHONES = {role: phone for phone, role, _unit, _name in reversed(DEMO_ACCOUNTS)}
# A second volunteer of booth 1: what destructive people operations aimed at a session's
# own account are pointed at instead (see tests/fuzz/guard.py).
SPARE_PHONE = "9000000006"

SERVER_ENV = {
    # Web Push set up, as in production (else GET /api/push/key answers 503 on purpose).
    "VAPID_PRIVATE_KEY": b64url(
        ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value.to_bytes(32, "big")
    ),
    # Sessions must outlive the run, and fuzzed logins must not lock the sessions' logins out.
    "ACCESS_TOKEN_MINUTES": "120",
    "LOGIN_LIMIT_PER_ADDRESS": "100000",
    "LOGIN_LIMIT_PER_PHONE": "100000",
}


@dataclass
class Session:
    """A logged-in device of one role, and what the fuzzer tracks about it."""

    role: str
    phone: str
    user_id: int
    device_id: str
    access_token: str
    next_seq: int = 1
    stats: dict = field(default_factory=dict)

    @property
    def headers(self):
        return {"Authorization": f"Bearer {self.access_token}"}


@dataclass
class Known:
    """Ids that exist, so that generated requests reach records and units, not only 404s:
    units (booth 1's block with its booths, one booth elsewhere, the district, the state)
    and records by entity with their versions, grown from the answers to pushes."""

    booths: list
    units: list
    records: dict

    @classmethod
    def of_seed(cls, booth):
        block_id, district_id = booth.block_id, booth.district_id
        booths = db.session.scalars(
            db.select(Unit.id).where(Unit.block_id == block_id, Unit.type == "booth")
        ).all()[:4]
        elsewhere = db.session.scalar(
            db.select(Unit.id).where(Unit.type == "booth", Unit.block_id != block_id).limit(1)
        )
        records = {}
        for entity, model in MODELS.items():
            rows = db.session.execute(db.select(model.id, model.version).limit(20)).all()
            records[entity] = dict(rows)
        booths = [booth.id, *[b for b in booths if b != booth.id], elsewhere]
        state_id = db.session.get(Unit, district_id).parent_id
        units = [*booths, block_id, district_id, state_id]
        return cls(booths=booths, units=units, records=records)

    def learn(self, entity, record_id, version):
        if entity in self.records and (
            record_id in self.records[entity] or len(self.records[entity]) < 50
        ):
            self.records[entity][record_id] = version


@dataclass
class LiveApi:
    url: str
    server: GunicornServer
    spare_user_id: int
    spare_device_id: str
    known: "Known"
    sessions: dict = field(default_factory=dict)

    def login(self, phone, device_id=None) -> dict:
        """Log in through the API; the answer's tokens and user."""
        answer = requests.post(
            self.url + "/api/auth/login",
            json={
                "phone": phone,
                "password": DEMO_PASSWORD,
                "device_id": device_id or str(uuid.uuid4()),
                "device_name": "fuzzer",
            },
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    def session(self, role) -> Session:
        """The session of `role`: one login for the whole run."""
        if role not in self.sessions:
            device_id = str(uuid.uuid4())
            answer = self.login(ROLE_PHONES[role], device_id)
            self.sessions[role] = Session(
                role=role,
                phone=ROLE_PHONES[role],
                user_id=answer["user"]["id"],
                device_id=device_id,
                access_token=answer["access_token"],
            )
        return self.sessions[role]


def _seed(url):
    """The demo seed (geography, accounts, sample records), a spare device to revoke, and
    the ids of what is there for the fuzzer to aim at (see Known)."""
    app = app_for(url)
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["seed-demo"])
        assert result.exit_code == 0, result.output
        spare = db.session.scalar(db.select(User).where(User.phone == SPARE_PHONE))
        device = Device(id=str(uuid.uuid4()), user_id=spare.id, name="spare")
        db.session.add(device)
        db.session.commit()
        known = Known.of_seed(spare.unit)
        ids = spare.id, device.id, known
        db.session.remove()
        db.engine.dispose()
        return ids


@pytest.fixture(scope="session")
def live_api():
    problem = postgres_reachable()
    if problem:
        # Never a skip: this module runs only in the PostgreSQL pass, where it must run.
        pytest.fail(f"PostgreSQL is needed for the API fuzzer: {problem}")
    with throwaway_database(prefix="booth_fuzz_") as url:
        init_schema(url)
        spare_user_id, spare_device_id, known = _seed(url)
        server = GunicornServer(url, workers=1, env=SERVER_ENV)
        with server:
            api = LiveApi(server.url, server, spare_user_id, spare_device_id, known)
            # Every session first: the guard keeps what they use out of the fuzzer's way.
            for role in ROLES:
                api.session(role)
            yield api
        server.cleanup()


def pytest_terminal_summary(terminalreporter):
    from tests.fuzz.summary import lines

    for line in lines():
        terminalreporter.write_line(line)
