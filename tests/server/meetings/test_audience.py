"""Who a meeting reaches: the admin tree, the Lok Sabha and assembly seats across it, and
the pull side (`units_reaching`) agreeing with the fan-out side (`recipients`)."""

import types
import uuid

import pytest
from sqlalchemy import select

from server.accounts.models import ROLES, User
from server.extensions import db
from server.geo.models import Unit
from server.meetings.audience import recipients, units_reaching
from server.meetings.models import Meeting


@pytest.fixture
def world(make):
    """make.geo() plus a second Lok Sabha seat whose assembly seat ac2 holds a new booth b5
    in block k3 (district d2), and one person of each role at each level."""
    g = make.geo()
    g.ls2 = make.unit("lok_sabha", "LS-2", "Dhanbad", parent=g.state, number=2)
    g.ac2 = make.unit("assembly", "AC-2", "Sindri", parent=g.ls2, number=2)
    g.b5 = make.unit("booth", "AC-2-1", "Booth 5", parent=g.p3, number=1, assembly_id=g.ac2.id)
    people = types.SimpleNamespace()
    for booth in ("b1", "b2", "b3", "b4", "b5"):
        setattr(people, "v_" + booth, make.user("volunteer", getattr(g, booth)))
    for block in ("k1", "k2", "k3"):
        setattr(people, "bp_" + block, make.user("block_president", getattr(g, block)))
    for district in ("d1", "d2"):
        setattr(people, "dp_" + district, make.user("district_president", getattr(g, district)))
    people.cc = make.user("connect_centre", g.state)
    people.admin = make.user("admin", g.state)
    people.retired = make.user("volunteer", g.b1, active=False)
    return types.SimpleNamespace(g=g, p=people)


def _meeting(unit, roles):
    return Meeting(id=str(uuid.uuid4()), unit_id=unit.id, audience_roles=list(roles))


def _names(world, meeting):
    ids = set(db.session.scalars(recipients(meeting).with_only_columns(User.id)))
    return {name for name, user in vars(world.p).items() if user.id in ids}


ALL = ROLES


def test_block_meeting_reaches_its_booths_and_its_president(world):
    g = world.g
    assert _names(world, _meeting(g.k1, ALL)) == {"v_b1", "v_b2", "bp_k1"}
    assert _names(world, _meeting(g.k1, ["volunteer"])) == {"v_b1", "v_b2"}
    assert _names(world, _meeting(g.k3, ["volunteer"])) == {"v_b4", "v_b5"}


def test_district_and_state_meetings(world):
    g = world.g
    assert _names(world, _meeting(g.d1, ALL)) == {"v_b1", "v_b2", "v_b3", "bp_k1", "bp_k2", "dp_d1"}
    assert _names(world, _meeting(g.state, ["district_president", "connect_centre"])) == {
        "dp_d1",
        "dp_d2",
        "cc",
    }
    everyone = set(vars(world.p)) - {"retired"}
    assert _names(world, _meeting(g.state, ALL)) == everyone


def test_panchayat_and_booth_meetings(world):
    g = world.g
    assert _names(world, _meeting(g.p1, ALL)) == {"v_b1", "v_b2"}
    assert _names(world, _meeting(g.b3, ALL)) == {"v_b3"}


def test_seat_meetings_cross_the_admin_tree(world):
    g = world.g
    # AC-1 holds booths b1-b4: every block and district holding one of them is in.
    assert _names(world, _meeting(g.ac, ALL)) == {
        "v_b1",
        "v_b2",
        "v_b3",
        "v_b4",
        "bp_k1",
        "bp_k2",
        "bp_k3",
        "dp_d1",
        "dp_d2",
    }
    # AC-2 holds only b5, in block k3 of district d2.
    assert _names(world, _meeting(g.ac2, ALL)) == {"v_b5", "bp_k3", "dp_d2"}
    assert _names(world, _meeting(g.ls2, ["volunteer", "block_president"])) == {"v_b5", "bp_k3"}
    assert _names(world, _meeting(g.ls, ["volunteer"])) == {"v_b1", "v_b2", "v_b3", "v_b4"}
    # State-wide roles sit above the seats, not inside them.
    assert _names(world, _meeting(g.ls, ["connect_centre", "admin"])) == set()


def test_no_roles_reaches_nobody(world):
    assert _names(world, _meeting(world.g.state, [])) == set()


def test_units_reaching_a_volunteer(world):
    g = world.g
    assert units_reaching(world.p.v_b5) == sorted(
        {g.b5.id, g.p3.id, g.k3.id, g.d2.id, g.state.id, g.ac2.id, g.ls2.id}
    )


def test_units_reaching_agrees_with_recipients(world):
    """For every person and every unit: the meeting reaches them by one rule iff by the other."""
    units = db.session.scalars(select(Unit)).all()
    for name, user in vars(world.p).items():
        reaching = set(units_reaching(user))
        for unit in units:
            for roles in ([user.role], [r for r in ALL if r != user.role]):
                meeting = _meeting(unit, roles)
                fanned = user.id in {
                    u for u in db.session.scalars(recipients(meeting).with_only_columns(User.id))
                }
                pulled = unit.id in reaching and user.role in roles and user.active
                assert fanned == pulled, (name, unit, roles)
