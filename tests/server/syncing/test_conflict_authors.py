"""A conflict record names the person whose value lost (rule 6): the pusher when their own
value lost, else the writer of the stored value, found from the device in its stamp
(server/syncing/batch_reads.py, author_of). That name decides who is told ("needs your
attention") and who may resolve it, so a wrong one hides a loss from the one who typed it."""

import types

import pytest

from tests.server.syncing.phone import Phone, member_fields, new_id


@pytest.fixture
def world(client, make):
    g = make.geo()
    return types.SimpleNamespace(
        g=g,
        a=Phone(client, make, make.user("volunteer", g.b1)),
        b=Phone(client, make, make.user("volunteer", g.b1)),
        president=Phone(client, make, make.user("block_president", g.k1)),
    )


def conflicts_about(phone, record_id):
    phone.pull()
    return [
        c["record"]
        for (entity, _cid), c in phone.seen.items()
        if entity == "conflict" and c["record"]["record_id"] == record_id
    ]


def test_a_stored_value_that_loses_to_a_later_edit_is_its_writers_conflict(world):
    member_id = new_id()
    assert world.a.send("member", member_id, member_fields(world.g.b1))["status"] == "applied"
    assert world.a.send("member", member_id, {"name": "सीता कुमारी"}, base=1)["version"] == 2
    # b edits the same field from the first version, stamped later: b's value wins.
    answer = world.b.send("member", member_id, {"name": "सीता"}, base=1, hlc=world.b.hlc(1_000))
    assert answer["status"] == "conflict", answer
    (conflict,) = conflicts_about(world.president, member_id)
    assert conflict["lost"] == {"name": "सीता कुमारी"} and conflict["kept"] == {"name": "सीता"}
    assert conflict["author_id"] == world.a.user_id
    # The one whose value lost sees it; the other volunteer of the booth too (same scope).
    assert [c["author_id"] for c in conflicts_about(world.a, member_id)] == [world.a.user_id]


def test_a_pushers_value_that_loses_is_the_pushers_conflict(world):
    member_id = new_id()
    assert world.a.send("member", member_id, member_fields(world.g.b1))["status"] == "applied"
    assert world.a.send("member", member_id, {"name": "सीता कुमारी"}, base=1)["version"] == 2
    answer = world.b.send("member", member_id, {"name": "सीता"}, base=1, hlc=world.b.hlc(-60_000))
    assert answer["status"] == "conflict", answer
    (conflict,) = conflicts_about(world.president, member_id)
    assert conflict["lost"] == {"name": "सीता"} and conflict["author_id"] == world.b.user_id


def test_two_stored_values_lost_in_one_push_each_name_their_own_writer(world):
    member_id = new_id()
    assert world.a.send("member", member_id, member_fields(world.g.b1))["status"] == "applied"
    assert world.a.send("member", member_id, {"name": "सीता कुमारी"}, base=1)["version"] == 2
    assert world.b.send("member", member_id, {"age": 29}, base=2)["version"] == 3
    answer = world.president.send(
        "member", member_id, {"name": "सीता", "age": 30}, base=1, hlc=world.president.hlc(1_000)
    )
    assert answer["status"] == "conflict", answer
    authors = {
        tuple(sorted(c["lost"])): c["author_id"]
        for c in conflicts_about(world.president, member_id)
    }
    assert authors == {("name",): world.a.user_id, ("age",): world.b.user_id}


def test_an_edit_a_delete_overrules_is_its_writers_conflict(world):
    member_id = new_id()
    assert world.a.send("member", member_id, member_fields(world.g.b1))["status"] == "applied"
    assert world.a.send("member", member_id, {"notes": "कॉलेज में"}, base=1)["version"] == 2
    answer = world.president.push(
        world.president.mutation("member", member_id, op="delete", base=1)
    )
    (deleted,) = answer["results"]
    assert deleted["status"] == "conflict", deleted
    (conflict,) = conflicts_about(world.president, member_id)
    assert conflict["kind"] == "delete" and conflict["lost"] == {"notes": "कॉलेज में"}
    assert conflict["author_id"] == world.a.user_id
