"""Migration 0003: old notes and conflict records take their record's current scope.

The code before the visibility fix left a conflict record with the booth its member had
when it was made, indexed with its author as owner. On a database upgraded from then, a
member moved to another block kept sending its conflict (lost mobile and EPIC in full)
to the old booth's volunteers and block president. The migration rebuilds every note's
and conflict record's booth columns and index rows from its record's current state.
"""

import types

import pytest
from sqlalchemy import delete, insert, update

from server.extensions import db
from server.syncing.models import Conflict, RecordChange
from tests.server.syncing.migrations import load_migration
from tests.server.syncing.phone import Phone, member_fields, new_id

PHONE, EPIC = "9876543210", "ABC1234567"
LOST_PHONE, LOST_EPIC = "9123491234", "XYZ7654321"


def migration():
    return load_migration("0003_attached_scope")


@pytest.fixture
def world(client, make):
    g = make.geo()
    w = types.SimpleNamespace(g=g, client=client, make=make)
    w.volunteer = make.user("volunteer", g.b1)
    w.volunteer2 = make.user("volunteer", g.b1)
    w.president = make.user("block_president", g.k1)
    w.author = Phone(client, make, w.volunteer)
    w.block = Phone(client, make, w.president)
    w.centre = Phone(client, make, make.user("connect_centre"))
    return w


def old_state(world, app):
    """The reproduction: a booth-1 volunteer's phone and EPIC lose to the block
    president's; the Connect Centre moves the member to another block's booth; then the
    conflict record is put back as the code before the fix left it (not moved, indexed
    under the old booth with its author as owner)."""
    g, member_id = world.g, new_id()
    fields = member_fields(g.b1, phone=PHONE, epic=EPIC)
    assert world.author.send("member", member_id, fields)["status"] == "applied"
    won = world.block.send("member", member_id, {"phone": "9000090000"}, base=1)
    assert won["status"] == "applied", won
    lost = world.author.send(
        "member",
        member_id,
        {"phone": LOST_PHONE, "epic": LOST_EPIC},
        base=1,
        hlc=world.author.hlc(-60_000),
    )
    assert lost["status"] == "conflict", lost
    moved = world.centre.send("member", member_id, {"booth_id": g.b3.id}, base=2)
    assert moved["status"] in ("applied", "merged"), moved
    with app.app_context():
        conflict_id = db.session.scalar(
            db.select(Conflict.id).where(Conflict.record_id == member_id)
        )
        db.session.execute(
            update(Conflict)
            .where(Conflict.id == conflict_id)
            .values(booth_id=g.b1.id, block_id=g.k1.id, district_id=g.d1.id)
        )
        db.session.execute(
            delete(RecordChange).where(
                RecordChange.entity == "conflict", RecordChange.record_id == conflict_id
            )
        )
        db.session.execute(
            insert(RecordChange).values(
                entity="conflict",
                record_id=conflict_id,
                scope_key=f"b{g.b1.id}",
                change_tx=1,
                booth_id=g.b1.id,
                block_id=g.k1.id,
                district_id=g.d1.id,
                owner_id=world.volunteer.id,
                removed=False,
            )
        )
        db.session.commit()
    return member_id, conflict_id


def test_old_conflicts_of_a_moved_member_are_withdrawn_by_the_migration(world, app):
    member_id, conflict_id = old_state(world, app)
    g = world.g
    old_viewers = [
        Phone(world.client, world.make, user)
        for user in (world.volunteer, world.volunteer2, world.president)
    ]
    for phone in old_viewers:  # the leak, as found on an upgraded database
        phone.pull()
        assert ("conflict", conflict_id) in phone.seen
        assert phone.seen[("conflict", conflict_id)]["record"]["booth_id"] == g.b1.id
    with app.app_context():
        migration().rebuild(db.session.connection())
        db.session.commit()
    for phone in old_viewers:
        answer = phone.pull()
        removed = {(c["entity"], c["id"]) for c in answer["changes"] if c.get("removed")}
        assert ("conflict", conflict_id) in removed, answer
        assert ("conflict", conflict_id) not in phone.seen
        assert LOST_PHONE not in str(answer) and LOST_EPIC not in str(answer)
        fresh = Phone(world.client, world.make, phone.user)
        answer = fresh.pull()
        assert ("conflict", conflict_id) not in fresh.seen
        assert ("member", member_id) not in fresh.seen
        assert LOST_PHONE not in str(answer) and LOST_EPIC not in str(answer)
    # The new booth's volunteer gets it, in the new booth, values in full.
    newcomer = Phone(world.client, world.make, world.make.user("volunteer", g.b3))
    newcomer.pull()
    record = newcomer.seen[("conflict", conflict_id)]["record"]
    assert record["booth_id"] == g.b3.id
    assert LOST_PHONE in str(record)
    # Run again, nothing changes and nobody is told anything new.
    with app.app_context():
        migration().rebuild(db.session.connection())
        db.session.commit()
    assert newcomer.pull()["changes"] == []


def index_and_booths():
    rows = db.session.execute(
        db.select(RecordChange.__table__).order_by(
            RecordChange.entity, RecordChange.record_id, RecordChange.scope_key
        )
    ).all()
    conflicts = db.session.execute(
        db.select(Conflict.id, Conflict.booth_id, Conflict.block_id, Conflict.district_id)
    ).all()
    return rows, sorted(conflicts)


@pytest.mark.parametrize("category", ["road", "party_conduct"])
def test_the_migration_leaves_rows_written_by_the_current_code_as_they_are(world, app, category):
    """Rows the current code wrote (a member's and a grievance's conflicts, a note, a
    move) are what the migration computes: it changes none of them."""
    g, member_id, gid = world.g, new_id(), new_id()
    assert world.author.send("member", member_id, member_fields(g.b1))["status"] == "applied"
    assert world.block.send("member", member_id, {"name": "सीता"}, base=1)["status"] == "applied"
    hlc = world.author.hlc(-60_000)
    assert (
        world.author.send("member", member_id, {"name": "गीता"}, base=1, hlc=hlc)["status"]
        == "conflict"
    )
    fields = {"booth_id": g.b1.id, "category": category, "description": "नल"}
    assert world.author.send("grievance", gid, fields)["status"] == "applied"
    note = world.author.send("grievance_note", new_id(), {"grievance_id": gid, "text": "फोटो"})
    assert note["status"] == "applied"
    second = Phone(world.client, world.make, world.volunteer)
    world.author.send("grievance", gid, {"description": "नया"}, base=1)
    clash = second.send("grievance", gid, {"description": "पुराना"}, base=1, hlc=second.hlc(-9))
    assert clash["status"] == "conflict", clash
    moved = world.centre.send("member", member_id, {"booth_id": g.b3.id}, base=2)
    assert moved["status"] in ("applied", "merged"), moved
    with app.app_context():
        before = index_and_booths()
        migration().rebuild(db.session.connection())
        db.session.commit()
        after = index_and_booths()
    assert len(before[1]) == 2
    assert before == after
