"""A record the pusher may not read is answered exactly as one that does not exist, on
every entity's update and delete path: resolving a conflict record of a complaint about
an office-bearer, or of a member that moved out of sight, writing a note on such a
complaint, editing or deleting a record of another booth. The answer reveals neither
that the record exists nor why it is hidden (the complaint's category)."""

import types

import pytest

from tests.server.syncing.phone import Phone, member_fields, new_id

RESOLVE = {"resolved": True}


@pytest.fixture
def world(client, make):
    g = make.geo()
    w = types.SimpleNamespace(g=g, client=client, make=make)
    w.volunteer = make.user("volunteer", g.b1)
    w.author = Phone(client, make, w.volunteer)
    w.second = Phone(client, make, w.volunteer)
    w.block = Phone(client, make, make.user("block_president", g.k1))
    w.district = Phone(client, make, make.user("district_president", g.d1))
    w.stranger = Phone(client, make, make.user("volunteer", g.b2))
    return w


def missing(phone, entity, fields=None, op="upsert"):
    """The answer for a record of `entity` that is not on the server at all."""
    return phone.send(entity, new_id(), fields, base=1, op=op)


def assert_same_as_missing(answer, phone, entity, fields=None, op="upsert"):
    assert answer["status"] == "rejected", answer
    expected = missing(phone, entity, fields, op)
    assert expected["status"] == "rejected", expected
    assert answer["error"] == expected["error"]
    assert "record" not in answer or answer["record"] is None
    assert "Connect Centre" not in str(answer)


def complaint(world, category="party_conduct"):
    gid = new_id()
    fields = {"booth_id": world.g.b1.id, "category": category, "description": "पैसे माँगे"}
    assert world.author.send("grievance", gid, fields)["status"] == "applied"
    return gid


def conflict_of(world, entity, record_id):
    world.author.pull()
    ids = [i for i, c in world.author.records("conflict").items() if c["record_id"] == record_id]
    assert len(ids) == 1, world.author.records("conflict")
    return ids[0]


def test_leaders_cannot_resolve_a_conflict_of_a_complaint_they_cannot_read(world):
    gid = complaint(world)
    world.author.send("grievance", gid, {"description": "नया"}, base=1)
    lost = world.second.send(
        "grievance", gid, {"description": "पुराना"}, base=1, hlc=world.second.hlc(-60_000)
    )
    assert lost["status"] == "conflict"
    conflict_id = conflict_of(world, "grievance", gid)
    for leader in (world.block, world.district):
        answer = leader.send("conflict", conflict_id, RESOLVE, base=1)
        assert_same_as_missing(answer, leader, "conflict", RESOLVE)
    # The booth's own volunteer still resolves it.
    assert world.author.send("conflict", conflict_id, RESOLVE, base=1)["status"] == "applied"


def test_the_author_of_a_lost_value_cannot_resolve_it_once_the_member_is_out_of_sight(world):
    member_id = new_id()
    created = world.author.send("member", member_id, member_fields(world.g.b1))
    assert created["status"] == "applied"
    assert world.block.send("member", member_id, {"name": "सीता"}, base=1)["status"] == "applied"
    lost = world.author.send(
        "member", member_id, {"name": "गीता"}, base=1, hlc=world.author.hlc(-60_000)
    )
    assert lost["status"] == "conflict", lost
    conflict_id = conflict_of(world, "member", member_id)
    moved = world.district.send("member", member_id, {"booth_id": world.g.b3.id}, base=2)
    assert moved["status"] == "applied", moved
    answer = world.author.send("conflict", conflict_id, RESOLVE, base=1)
    assert_same_as_missing(answer, world.author, "conflict", RESOLVE)
    # Nor may the author edit or delete the member itself.
    edit = world.author.send("member", member_id, {"name": "रीता"}, base=3)
    assert edit["status"] == "rejected" and edit["error"]["code"] == "not_found", edit
    gone = world.author.send("member", member_id, base=3, op="delete")
    assert_same_as_missing(gone, world.author, "member", op="delete")


def test_a_note_on_a_complaint_one_cannot_read_is_answered_as_for_a_missing_complaint(world):
    gid = complaint(world)
    for leader in (world.block, world.district):
        answer = leader.send("grievance_note", new_id(), {"grievance_id": gid, "text": "देखा"})
        assert answer["status"] == "rejected", answer
        expected = leader.send(
            "grievance_note", new_id(), {"grievance_id": new_id(), "text": "देखा"}
        )
        assert answer["error"] == expected["error"], (answer, expected)
        assert "Connect Centre" not in str(answer)


def test_editing_or_deleting_a_record_one_cannot_read_is_answered_as_not_found(world):
    gid = complaint(world)
    for leader in (world.block, world.district):
        answer = leader.send("grievance", gid, {"status": "acknowledged"}, base=1)
        assert answer["status"] == "rejected" and answer["error"]["code"] == "not_found"
        assert "Connect Centre" not in str(answer)
        gone = leader.send("grievance", gid, base=1, op="delete")
        assert_same_as_missing(gone, leader, "grievance", op="delete")
    road = complaint(world, "road")
    gone = world.stranger.send("grievance", road, base=1, op="delete")
    assert_same_as_missing(gone, world.stranger, "grievance", op="delete")
