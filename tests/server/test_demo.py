"""flask seed-demo: real geography, demo booths and accounts; running it twice changes nothing."""

from sqlalchemy import select

from server.accounts.models import User
from server.accounts.passwords import verify_password
from server.extensions import db
from server.geo.models import ASSEMBLY, BLOCK, BOOTH, DISTRICT, LOK_SABHA, PANCHAYAT, STATE
from tests.server.geo.helpers import audit_count, count_units, fresh, unit, unit_rows

ACCOUNTS = {
    "9000000001": ("volunteer", BOOTH, "AC-65-1"),
    "9000000002": ("block_president", BLOCK, "RAN-KANKE"),
    "9000000003": ("connect_centre", STATE, "JH"),
    "9000000004": ("district_president", DISTRICT, "RAN"),
    "9000000005": ("admin", STATE, "JH"),
    "9000000006": ("volunteer", BOOTH, "AC-65-1"),
}


def seed(runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    return result.output


def user_rows():
    fresh()
    return db.session.execute(select(User.__table__).order_by(User.id)).all()


def users():
    fresh()
    return {u.phone: u for u in db.session.scalars(select(User))}


def test_seed_loads_the_geography_and_demo_booths(make, runner):
    seed(runner)
    counts = {
        t: count_units(t) for t in (STATE, DISTRICT, LOK_SABHA, ASSEMBLY, BLOCK, PANCHAYAT, BOOTH)
    }
    assert counts == {
        STATE: 1,
        DISTRICT: 24,
        LOK_SABHA: 14,
        ASSEMBLY: 81,
        BLOCK: 11,
        PANCHAYAT: 33,
        BOOTH: 132,
    }
    booth_1, kanke = unit(BOOTH, "AC-65-1"), unit(BLOCK, "RAN-KANKE")
    assert booth_1.number == 1
    assert booth_1.block_id == kanke.id
    assert booth_1.district_id == unit(DISTRICT, "RAN").id
    assert booth_1.assembly_id == unit(ASSEMBLY, "AC-65").id
    assert kanke.name_hi == "काँके"
    # Kanke's twelve booths come first in the Kanke seat; Ratu's follow them.
    assert unit(BOOTH, "AC-65-12").block_id == kanke.id
    assert unit(BOOTH, "AC-65-13").block_id == unit(BLOCK, "RAN-RATU").id
    for block in ("RAN-ORMANJHI", "RAN-NAMKUM", "RAN-BERO", "DHN-BAGHMARA", "GUM-SISAI"):
        assert unit(BLOCK, block) is not None, block


def test_seed_makes_the_demo_accounts_and_prints_them(make, runner):
    output = seed(runner)
    found = users()
    assert set(found) == set(ACCOUNTS)
    for phone, (role, unit_type, unit_code) in ACCOUNTS.items():
        user = found[phone]
        assert (user.role, user.unit.type, user.unit.code, user.active) == (
            role,
            unit_type,
            unit_code,
            True,
        )
        assert verify_password(user.password_hash, "booth-demo")
        assert any(
            phone in line and role in line and unit_code in line for line in output.splitlines()
        )
    assert "booth-demo" in output


def test_seeding_twice_changes_nothing(make, runner):
    seed(runner)
    units, accounts, audits = unit_rows(), user_rows(), audit_count()
    output = seed(runner)
    assert "Geography: nothing changed." in output
    assert unit_rows() == units
    assert user_rows() == accounts
    assert audit_count() == audits


def test_seeding_again_restores_a_changed_demo_account(make, runner):
    seed(runner)
    president = users()["9000000002"]
    president.active = False
    president.unit_id = unit(BLOCK, "RAN-RATU").id
    db.session.commit()
    seed(runner)
    president = users()["9000000002"]
    assert president.active
    assert president.unit.code == "RAN-KANKE"
    assert president.scope_version == 2


def test_the_block_president_sees_kankes_booths(make, runner, client):
    seed(runner)
    president = users()["9000000002"]
    tree = client.get("/api/units/tree", headers=make.headers(president)).json
    assert tree["code"] == "RAN-KANKE"
    assert tree["counts"]["booths"] == 12
    assert [len(p["children"]) for p in tree["children"]] == [4, 4, 4]
    assert tree["children"][0]["children"][0]["code"] == "AC-65-1"


def test_seed_demo_adds_sample_records_through_the_sync_engine_once(runner, make, client):
    from sqlalchemy import func, select

    from server.extensions import db
    from server.grievances.models import Grievance
    from server.roster.models import Member

    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "added to booth 1: 9" in first.output
    again = runner.invoke(args=["seed-demo"])
    assert "added to booth 1: 0" in again.output
    statuses = sorted(db.session.scalars(select(Member.status)))
    assert statuses == ["approved"] * 2 + ["pending"] * 4
    assert db.session.scalar(select(func.count()).select_from(Grievance)) == 3
    # The volunteer's phone pulls them like any record.
    login = client.post(
        "/api/auth/login",
        json={
            "phone": "9000000001",
            "password": "booth-demo",
            "device_id": "0b6c1a3e-2d4f-4a5b-8c9d-0e1f2a3b4c5d",
            "device_name": "test",
        },
    )
    token = login.json["access_token"]
    pulled = client.get("/api/sync/pull", headers={"Authorization": f"Bearer {token}"}).json
    entities = sorted({c["entity"] for c in pulled["changes"]})
    assert entities == ["grievance", "grievance_note", "member"]
