"""Consent withdrawn erases the member's personal data from every conflict record about it
(server/syncing/conflicts.py, erase_from_conflicts): those stored before and those the
same push has just made; each changed conflict record is a new version phones pull."""

import types

import pytest

from tests.server.syncing.phone import Phone, member_fields, new_id


@pytest.fixture
def world(client, make):
    g = make.geo()
    volunteer = make.user("volunteer", g.b1)
    return types.SimpleNamespace(
        g=g,
        a=Phone(client, make, volunteer),
        b=Phone(client, make, volunteer),
        president=Phone(client, make, make.user("block_president", g.k1)),
    )


def conflicts_about(phone, member_id):
    return {
        cid: c["record"]
        for (entity, cid), c in phone.seen.items()
        if entity == "conflict" and c["record"]["record_id"] == member_id
    }


def test_a_conflict_made_in_the_withdrawing_push_is_erased_too(world):
    member_id = new_id()
    fields = member_fields(world.g.b1, phone="9876512345", epic="QWE1234567")
    assert world.a.send("member", member_id, fields)["status"] == "applied"
    edited = world.a.send("member", member_id, {"phone": "9000012345"}, base=1)
    assert edited["version"] == 2
    answer = world.b.push(
        world.b.mutation(
            "member", member_id, {"phone": "9111112345"}, base=1, hlc=world.b.hlc(-60_000)
        ),
        world.b.mutation("member", member_id, {"consent": False}, base=2),
    )
    lost, erased = answer["results"]
    assert lost["status"] == "conflict", lost
    assert erased["status"] in ("applied", "merged"), erased
    world.president.pull()
    (conflict,) = conflicts_about(world.president, member_id).values()
    assert "phone" not in conflict["lost"] and "phone" not in conflict["kept"]
    assert conflict["resolved"] is True


def test_a_stored_conflict_is_erased_as_a_new_version(world):
    member_id = new_id()
    fields = member_fields(world.g.b1, phone="9876512345", name="गीता देवी")
    assert world.a.send("member", member_id, fields)["status"] == "applied"
    world.a.send("member", member_id, {"phone": "9000012345", "name": "गीता"}, base=1)
    lost = world.b.send(
        "member",
        member_id,
        {"phone": "9111112345", "name": "गीता दे"},
        base=1,
        hlc=world.b.hlc(-60_000),
    )
    assert lost["status"] == "conflict"
    world.president.pull()
    ((cid, before),) = conflicts_about(world.president, member_id).items()
    assert before["resolved"] is False and "phone" in before["lost"]
    erased = world.a.send("member", member_id, {"consent": False}, base=lost["version"])
    assert erased["status"] in ("applied", "merged"), erased
    answer = world.president.pull()
    changed = [c for c in answer["changes"] if c.get("id") == cid]
    assert len(changed) == 1 and changed[0]["version"] == before["version"] + 1
    after = changed[0]["record"]
    assert after["resolved"] is True
    assert "phone" not in after["lost"] and "phone" not in after["kept"]
