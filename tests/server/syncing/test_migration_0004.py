"""Migration 0004: old conflict records about a meeting take the meeting's scope.

The code before this fix indexed a conflict record about a meeting under `u<unit id>`
with the booth, block and district of the meeting's unit and its author as owner: a
volunteer of a booth meeting's booth pulled it even outside the meeting's audience. The
migration gives each the meeting's own index row; the old row is marked `removed`.
"""

import types

import pytest
from sqlalchemy import delete, insert

from server.extensions import db
from server.syncing.models import Conflict, RecordChange
from tests.server.syncing.migrations import load_migration
from tests.server.syncing.phone import Phone, new_id


def migration():
    return load_migration("0004_meeting_conflicts")


@pytest.fixture
def world(client, make):
    g = make.geo()
    w = types.SimpleNamespace(g=g, client=client, make=make)
    w.volunteer = make.user("volunteer", g.b1)
    w.president = make.user("block_president", g.k1)
    w.block = Phone(client, make, w.president)
    return w


def old_state(world, app):
    """A booth meeting for block presidents only, a conflict record about it, indexed as
    the code before the fix did (booth columns, the author as owner, key `u<unit>`)."""
    g, meeting_id = world.g, new_id()
    fields = {
        "title": "बूथ बैठक",
        "starts_at": int(world.block.hlc()[:13]) + 86_400_000,
        "unit_id": g.b1.id,
        "audience_roles": ["block_president"],
    }
    assert world.block.send("meeting", meeting_id, fields)["status"] == "applied"
    second = Phone(world.client, world.make, world.president)
    assert world.block.send("meeting", meeting_id, {"title": "नई"}, base=1)["status"] == "applied"
    lost = second.send("meeting", meeting_id, {"title": "पुरानी"}, base=1, hlc=second.hlc(-60_000))
    assert lost["status"] == "conflict", lost
    with app.app_context():
        conflict_id = db.session.scalar(
            db.select(Conflict.id).where(Conflict.record_id == meeting_id)
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
                scope_key=f"u{g.b1.id}",
                change_tx=1,
                booth_id=g.b1.id,
                block_id=g.k1.id,
                district_id=g.d1.id,
                unit_id=None,
                owner_id=world.president.id,
                removed=False,
            )
        )
        db.session.commit()
    return meeting_id, conflict_id


def test_old_conflicts_about_a_meeting_are_withdrawn_from_outside_its_audience(world, app):
    meeting_id, conflict_id = old_state(world, app)
    volunteer = Phone(world.client, world.make, world.volunteer)
    volunteer.pull()  # the leak, as found on an upgraded database
    assert ("conflict", conflict_id) in volunteer.seen
    with app.app_context():
        migration().rebuild(db.session.connection())
        db.session.commit()
    answer = volunteer.pull()
    removed = {(c["entity"], c["id"]) for c in answer["changes"] if c.get("removed")}
    assert removed == {("conflict", conflict_id)}, answer
    fresh = Phone(world.client, world.make, world.volunteer)
    fresh.pull()
    assert {k[0] for k in fresh.seen} <= {"member"}
    # The meeting's leaders get it under the meeting's scope.
    for user in (world.president, world.make.user("district_president", world.g.d1)):
        leader = Phone(world.client, world.make, user)
        leader.pull()
        assert {("meeting", meeting_id), ("conflict", conflict_id)} <= set(leader.seen)
    # Run again, nothing changes and nobody is told anything new.
    with app.app_context():
        migration().rebuild(db.session.connection())
        db.session.commit()
    assert volunteer.pull()["changes"] == []
    assert leader.pull()["changes"] == []
