"""A push is all or nothing even when the server process dies in the middle of it.

The real app runs under gunicorn on its own throwaway PostgreSQL database (whatever
TEST_DATABASE says: a process can only be killed mid-transaction with a real server and
a real database). The worker SIGKILLs itself inside the push's transaction once it has
written SYNC_CRASH_AFTER mutations (tests/server/syncing/crashing_app.py);
the database must then hold nothing of that batch, and the retry on a healthy server
applies it once.
"""

import uuid

import psycopg
import pytest
import requests
from flask_jwt_extended import create_access_token

from server.accounts.models import Device, User
from server.accounts.passwords import hash_password
from server.extensions import db
from server.geo.models import Unit
from server.records import now_ms
from sync.hlc import format_hlc
from tests.server.syncing.crashing_app import CRASHING_APP
from tests.server.syncing.server_process import (
    GunicornServer,
    app_for,
    init_schema,
    libpq_url,
    postgres_reachable,
    throwaway_database,
)

PHONE, PASSWORD = "9431000001", "booth-crash-test"
BATCH, CRASH_AFTER = 10, 6
NAMES = ("सुनीता देवी", "राजेश महतो", "प्रिया कुमारी", "अमित उराँव", "रीना मुंडा")


@pytest.fixture(scope="module")
def database():
    problem = postgres_reachable()
    if problem:
        # Never a skip: the crash test is what proves a push is all or nothing.
        pytest.fail(f"PostgreSQL is needed for the crash test: {problem}")
    with throwaway_database(prefix="booth_crash_") as url:
        init_schema(url)
        yield url


def seed_volunteer(url):
    """A booth in a block in a district, and its volunteer; returns the booth id."""
    app = app_for(url)
    with app.app_context():
        state = Unit(type="state", code="JH", name_en="Jharkhand", name_hi="झारखंड")
        db.session.add(state)
        db.session.flush()
        district = Unit(
            type="district", code="RAN", name_en="Ranchi", name_hi="राँची", parent_id=state.id
        )
        db.session.add(district)
        db.session.flush()
        block = Unit(
            type="block",
            code="RAN-KANKE",
            name_en="Kanke",
            name_hi="काँके",
            parent_id=district.id,
            district_id=district.id,
        )
        db.session.add(block)
        db.session.flush()
        booth = Unit(
            type="booth",
            code="AC-65-1",
            name_en="Booth 1",
            name_hi="बूथ 1",
            parent_id=block.id,
            district_id=district.id,
            block_id=block.id,
            number=1,
        )
        db.session.add(booth)
        db.session.flush()
        db.session.add(
            User(
                phone=PHONE,
                name="बूथ कार्यकर्ता",
                password_hash=hash_password(PASSWORD),
                role="volunteer",
                unit_id=booth.id,
            )
        )
        db.session.commit()
        booth_id = booth.id
        db.session.remove()
        db.engine.dispose()
    return booth_id


def log_in(server, url, device_id):
    """An access token for a new device: over HTTP, or minted like tests/factories.py
    when this checkout has no login endpoint yet."""
    answer = requests.post(
        server.url + "/api/auth/login",
        json={"phone": PHONE, "password": PASSWORD, "device_id": device_id, "device_name": "A"},
        timeout=30,
    )
    if answer.status_code != 404:
        assert answer.status_code == 200, answer.text
        return answer.json()["access_token"]
    app = app_for(url)
    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(phone=PHONE)).scalar_one()
        device = Device(id=device_id, user_id=user.id, name="A")
        db.session.add(device)
        db.session.commit()
        token = create_access_token(
            identity=user, additional_claims={"dev": device.id, "gen": device.token_generation}
        )
        db.session.remove()
        db.engine.dispose()
    return token


def outbox(device_id, booth_id):
    """Ten members typed offline, as the phone queued them."""
    start = now_ms() - 3_600_000
    return [
        {
            "seq": n,
            "entity": "member",
            "op": "upsert",
            "id": str(uuid.uuid4()),
            "base_version": None,
            "hlc": format_hlc(start + n * 1000, 0, device_id),
            "fields": {
                "booth_id": booth_id,
                "name": NAMES[n % len(NAMES)],
                "age": 18 + n,
                "gender": "female" if n % 2 else "male",
                "phone": f"98765432{n:02d}",
                "epic": f"JHR00000{n:02d}",
                "skills": ["speaker"],
                "consent": True,
            },
        }
        for n in range(1, BATCH + 1)
    ]


def push(server, token, device_id, mutations):
    return requests.post(
        server.url + "/api/sync/push",
        json={
            "device_id": device_id,
            "schema_version": 1,
            "client_time": now_ms(),
            "mutations": mutations,
        },
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )


def stored(url, device_id):
    """What the database holds of the batch, read over a connection of its own."""
    with psycopg.connect(libpq_url(url)) as conn:

        def count(sql, *args):
            return conn.execute(sql, args).fetchone()[0]

        return {
            "members": count("SELECT count(*) FROM members"),
            "changes": count("SELECT count(*) FROM record_changes WHERE entity = 'member'"),
            "applied": count(
                "SELECT count(*) FROM applied_mutations WHERE device_id = %s", device_id
            ),
            "audit": count("SELECT count(*) FROM audit_log WHERE entity = 'member'"),
            "last_seq": count("SELECT last_seq FROM devices WHERE id = %s", device_id),
        }


def test_push_killed_midway_leaves_nothing_and_retry_applies_it_once(database, tmp_path):
    booth_id = seed_volunteer(database)
    device_id = str(uuid.uuid4())
    batch = None

    crashing = GunicornServer(
        database,
        workers=1,
        env={"SYNC_CRASH_AFTER": str(CRASH_AFTER)},
        log_path=tmp_path / "a.log",
        app=CRASHING_APP,
    )
    with crashing:
        token = log_in(crashing, database, device_id)
        batch = outbox(device_id, booth_id)
        with pytest.raises(requests.ConnectionError):
            push(crashing, token, device_id, batch)
        # The answer was lost because the worker was killed, not for any other reason.
        assert crashing.wait_for_log("was sent SIGKILL"), crashing.log_tail()

    nothing = {"members": 0, "changes": 0, "applied": 0, "audit": 0, "last_seq": 0}
    assert stored(database, device_id) == nothing

    with GunicornServer(database, workers=1, log_path=tmp_path / "b.log") as healthy:
        retry = push(healthy, token, device_id, batch)
        assert retry.status_code == 200, retry.text
        answer = retry.json()
        assert answer["last_seq"] == BATCH
        assert [r["status"] for r in answer["results"]] == ["applied"] * BATCH
        assert [r["record"]["name"] for r in answer["results"]] == [
            m["fields"]["name"] for m in batch
        ]
        assert stored(database, device_id) == {
            "members": BATCH,
            "changes": BATCH,
            "applied": BATCH,
            "audit": BATCH,
            "last_seq": BATCH,
        }

        again = push(healthy, token, device_id, batch)
        assert again.status_code == 200, again.text
        assert [r["status"] for r in again.json()["results"]] == ["duplicate"] * BATCH
        assert again.json()["last_seq"] == BATCH
        assert stored(database, device_id)["members"] == BATCH
    assert "SIGKILL" not in healthy.log()
