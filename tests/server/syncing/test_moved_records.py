"""A record that leaves one of its scope keys is sent as `removed` only to those it no
longer reaches by another (server/syncing/pull.py, page_of_changes; visibility.py,
row_visible): the reporter of a complaint follows it to any booth, a meeting moved to the
block still reaches the booth's volunteers, the Connect Centre keeps everything. A wrong
`removed` takes the record off the phone although the person may still see it."""

import types

import pytest

from tests.server.syncing.phone import Phone, new_id

DAY = 86_400_000


@pytest.fixture
def world(client, make):
    g = make.geo()
    return types.SimpleNamespace(
        g=g,
        president=Phone(client, make, make.user("block_president", g.k1)),
        district=Phone(client, make, make.user("district_president", g.d1)),
        volunteer=Phone(client, make, make.user("volunteer", g.b1)),
        neighbour=Phone(client, make, make.user("volunteer", g.b2)),
        centre=Phone(client, make, make.user("connect_centre", g.state)),
    )


def answer_about(phone, record_id):
    """The changes about the record in the phone's next pull (every page)."""
    changes = []
    while True:
        answer = phone.pull_page(500)
        assert not answer["reset"], answer
        phone.cursor = answer["cursor"]
        changes += [c for c in answer["changes"] if c["id"] == record_id]
        if not answer["has_more"]:
            return changes


def call_meeting(world, unit):
    """The block president calls the volunteers of `unit` to a meeting tomorrow."""
    meeting_id = new_id()
    fields = {
        "title": "बैठक",
        "starts_at": world.president.now() + DAY,
        "unit_id": unit.id,
        "audience_roles": ["volunteer"],
    }
    assert world.president.send("meeting", meeting_id, fields)["status"] == "applied"
    return meeting_id


def test_a_complaint_moved_away_stays_with_its_reporter_who_reaches_it_only_as_reporter(world):
    # Complaints about party office-bearers are not the block president's to see: the one
    # who reported it sees it as its reporter, wherever it goes.
    grievance_id = new_id()
    fields = {"booth_id": world.g.b1.id, "category": "party_conduct", "description": "धमकी"}
    assert world.president.send("grievance", grievance_id, fields)["status"] == "applied"
    world.president.pull()
    moved = world.president.send("grievance", grievance_id, {"booth_id": world.g.b2.id}, base=1)
    assert moved["status"] == "applied", moved
    changes = answer_about(world.president, grievance_id)
    assert [c.get("removed", False) for c in changes] == [False], changes
    assert changes[0]["record"]["booth_id"] == world.g.b2.id


def test_a_moved_complaint_leaves_the_old_booth_and_reaches_the_new(world):
    grievance_id = new_id()
    fields = {"booth_id": world.g.b1.id, "category": "water", "description": "नल सूखा"}
    # Reported by the district president: the others reach it by its booth alone.
    assert world.district.send("grievance", grievance_id, fields)["status"] == "applied"
    for phone in (world.president, world.volunteer, world.neighbour, world.centre):
        phone.pull()
    world.district.send("grievance", grievance_id, {"booth_id": world.g.b2.id}, base=1)
    assert answer_about(world.volunteer, grievance_id) == [
        {"entity": "grievance", "id": grievance_id, "removed": True}
    ]
    (arrived,) = answer_about(world.neighbour, grievance_id)
    assert arrived["record"]["booth_id"] == world.g.b2.id
    # The block president and the Connect Centre reach both booths: it stays, moved.
    for phone in (world.president, world.centre):
        (kept,) = answer_about(phone, grievance_id)
        assert "removed" not in kept and kept["record"]["booth_id"] == world.g.b2.id


def test_a_meeting_moved_to_the_block_still_reaches_the_booths_volunteers(world):
    meeting_id = call_meeting(world, world.g.b1)
    world.volunteer.pull()
    world.neighbour.pull()
    assert meeting_id in world.volunteer.records("meeting")
    assert meeting_id not in world.neighbour.records("meeting")
    moved = world.president.send("meeting", meeting_id, {"unit_id": world.g.k1.id}, base=1)
    assert moved["status"] == "applied", moved
    for phone in (world.volunteer, world.neighbour):
        (change,) = answer_about(phone, meeting_id)
        assert "removed" not in change and change["record"]["unit_id"] == world.g.k1.id


def test_a_meeting_moved_out_of_reach_is_removed_for_the_audience_it_left(world):
    meeting_id = call_meeting(world, world.g.k1)
    world.volunteer.pull()
    world.neighbour.pull()
    moved = world.president.send("meeting", meeting_id, {"unit_id": world.g.b2.id}, base=1)
    assert moved["status"] == "applied", moved
    assert answer_about(world.volunteer, meeting_id) == [
        {"entity": "meeting", "id": meeting_id, "removed": True}
    ]
    (change,) = answer_about(world.neighbour, meeting_id)
    assert "removed" not in change
