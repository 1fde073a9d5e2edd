"""The merge, the base check, conflict records and the HLC floor at their edges (rules 1,
2 and 7 of docs/protocol.md), decided by sync/ alone."""

from sync.hlc import clamp, format_hlc
from tests.sync.memory_phone import member_fields, new_id
from tests.sync.test_meeting_rules import call
from tests.sync.test_member_rules import add_member


def test_a_base_version_the_server_never_gave_says_which_it_has(world):
    member_id, v = add_member(world.a, world.g.b1)
    result = world.a.send("member", member_id, {"notes": "आगे"}, base=v + 2)
    message = f"The server never had version {v + 2}; the record is at {v}."
    assert (result["status"], result["error"]) == (
        "rejected",
        {"code": "base_ahead", "message": message, "fields": {"base_version": [message]}},
    )


def test_an_edit_without_a_base_saw_nothing_and_still_takes_a_field_never_written(world):
    """`notes` was never written (the store's default): no one's value can lose to it."""
    member_id, _v = add_member(world.a, world.g.b1)
    result = world.b.send("member", member_id, {"notes": "पहली बार"}, base=None)
    assert (result["status"], result["conflicts"]) == ("merged", [])
    assert result["record"]["notes"] == "पहली बार"


def test_a_new_member_needs_its_required_fields(world):
    fields = member_fields(world.g.b1)
    del fields["name"]
    result = world.a.send("member", new_id(), fields)
    assert (result["status"], result["error"]["fields"]) == (
        "rejected",
        {"name": ["This is required."]},
    )


def meeting_conflict(world):
    """A district president's late title loses to the organiser's: a meeting's conflict."""
    meeting_id, _ = call(world, world.p, world.g.k1.id)
    district = world.phone_of("district_president", world.g.d1)
    world.p.send("meeting", meeting_id, {"title": "पहला"}, base=1)
    district.send("meeting", meeting_id, {"title": "पुराना"}, base=1, hlc=district.hlc(-60_000))
    world.p.pull()
    [conflict] = world.p.records("conflict").values()
    return conflict, district


def test_a_meetings_conflict_is_resolved_by_its_author_or_a_leader_over_its_unit(world):
    conflict, district = meeting_conflict(world)
    assert (conflict["unit_id"], conflict["booth_id"]) == (world.g.k1.id, None)
    assert conflict["author_id"] == district.user_id
    # The meeting's audience sees its conflict record, as it sees the meeting, but only its
    # author or a leader over the unit resolves it.
    volunteer = world.a.send("conflict", conflict["id"], {"resolved": True}, base=1)
    assert volunteer["error"]["code"] == "not_allowed"
    outside = world.phone_of("volunteer", world.g.b3)  # another block: not its audience
    hidden = outside.send("conflict", conflict["id"], {"resolved": True}, base=1)
    assert hidden["error"]["code"] == "not_found"  # not theirs to see
    neighbour = world.phone_of("block_president", world.g.k2)
    assert neighbour.send("conflict", conflict["id"], {"resolved": True}, base=1)["status"] == (
        "rejected"
    )
    resolved = world.p.send("conflict", conflict["id"], {"resolved": True}, base=1)
    assert (resolved["status"], resolved["record"]["resolved"]) == ("applied", True)
    assert world.server.db.audit[-1] == ("update", "conflict", conflict["id"], 2, ["resolved"])


def test_an_hlc_exactly_at_the_floor_is_kept_as_it_is():
    node = "0123456789abcdef"
    at_floor = format_hlc(1_772_000_000_000, 7, node)
    assert clamp(at_floor, now_ms=1_771_999_999_000, floor_ms=1_772_000_000_000) == at_floor
    below = format_hlc(1_771_000_000_000, 7, node)
    assert clamp(below, now_ms=1_771_999_999_000, floor_ms=1_772_000_000_000) == format_hlc(
        1_771_999_999_000, 7, node
    )


def test_a_meetings_conflict_is_seen_by_exactly_who_sees_the_meeting(world):
    """A booth meeting for block presidents only: the booth's volunteer, outside its
    audience, pulls neither it nor a conflict record about it; its leaders pull both."""
    meeting_id, _ = call(world, world.p, world.g.b1.id, roles=("block_president",))
    second = type(world.p)(world.server, world.president)
    world.p.send("meeting", meeting_id, {"title": "पहला"}, base=1)
    lost = second.send("meeting", meeting_id, {"title": "पुराना"}, base=1, hlc=second.hlc(-60_000))
    assert lost["status"] == "conflict"
    world.a.pull()
    assert (world.a.records("meeting"), world.a.records("conflict")) == ({}, {})
    world.p.pull()
    assert [c["record_id"] for c in world.p.records("conflict").values()] == [meeting_id]
