"""A conflict record about a meeting is exactly as visible as the meeting (rule 10 of
docs/protocol.md, change 22): its audience and the leaders over its unit see both, a
volunteer of its booth left out of the audience sees neither, and both follow the
meeting when its audience changes."""

import pytest

from tests.server.syncing.phone import Phone, new_id
from tests.server.syncing.test_visibility import VIEWERS, build_world


@pytest.fixture
def world(client, make):
    return build_world(client, make)


def call_meeting(phone, unit, roles):
    meeting_id = new_id()
    fields = {
        "title": "बूथ बैठक",
        "starts_at": int(phone.hlc()[:13]) + 86_400_000,
        "unit_id": unit.id,
        "audience_roles": roles,
    }
    assert phone.send("meeting", meeting_id, fields)["status"] == "applied"
    return meeting_id


def test_conflicts_about_a_meeting_are_seen_exactly_by_who_sees_the_meeting(world):
    """A booth meeting for block presidents only: the booth's volunteer, outside its
    audience, pulls neither the meeting nor a conflict record about it; given the meeting
    in its audience, they get both, and are told to drop both when it leaves again."""
    president = world.phones["block_president"]
    meeting_id = call_meeting(president, world.g.b1, ["block_president"])
    second = Phone(world.client, world.make, world.users["block_president"])
    assert president.send("meeting", meeting_id, {"title": "नई बैठक"}, base=1)["status"] == (
        "applied"
    )
    lost = second.send(
        "meeting", meeting_id, {"title": "पुरानी बैठक"}, base=1, hlc=second.hlc(-60_000)
    )
    assert lost["status"] == "conflict", lost

    def held(viewer):
        phone = Phone(world.client, world.make, world.users[viewer])
        phone.pull()
        return {k[0] for k in phone.seen if k[0] in ("meeting", "conflict")}

    sees = {"block_president", "district_president", "connect_centre", "admin"}
    for viewer in VIEWERS:
        assert held(viewer) == ({"meeting", "conflict"} if viewer in sees else set()), viewer
    volunteer = world.phones["volunteer"]
    volunteer.pull()
    invited = president.send(
        "meeting", meeting_id, {"audience_roles": ["block_president", "volunteer"]}, base=2
    )
    assert invited["status"] == "applied", invited
    volunteer.pull()
    assert {k[0] for k in volunteer.seen if k[0] != "member"} == {"meeting", "conflict"}
    assert held("other_volunteer") == set()
    back = president.send("meeting", meeting_id, {"audience_roles": ["block_president"]}, base=3)
    assert back["status"] == "applied", back
    answer = volunteer.pull()
    assert {c["entity"] for c in answer["changes"] if c.get("removed")} == {"meeting", "conflict"}
    assert {k[0] for k in volunteer.seen if k[0] != "member"} == set()
    assert held("volunteer") == set()
