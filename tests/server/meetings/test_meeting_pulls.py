"""Who pulls a meeting, over HTTP: its audience and the leaders over its unit. A meeting
given another audience or moved to another unit is `removed` from the phones that no
longer read it (rule 10; docs/protocol.md, change 21), and a page that ends on a
meeting's row gives a cursor the next pull takes (its scope key names the audience)."""

import pytest

from tests.server.syncing.phone import Phone, member_fields, new_id

DAY_MS = 24 * 3600 * 1000


@pytest.fixture
def people(client, make):
    g = make.geo()
    users = {
        "volunteer": make.user("volunteer", g.b1),
        "president": make.user("block_president", g.k1),
    }
    return g, {name: Phone(client, make, user) for name, user in users.items()}


def _call(president, unit, roles):
    meeting_id = new_id()
    fields = {
        "title": "बूथ बैठक",
        "starts_at": int(president.hlc()[:13]) + DAY_MS,
        "unit_id": unit.id,
        "audience_roles": roles,
    }
    assert president.send("meeting", meeting_id, fields)["status"] == "applied"
    return meeting_id


def _pull_one_at_a_time(phone):
    """Pull pages of one change; fail on a reset (a cursor the server refused)."""
    for _ in range(50):
        answer = phone.pull_page(1)
        assert answer["reset"] is False
        for change in answer["changes"]:
            key = (change["entity"], change["id"])
            if change.get("removed"):
                phone.seen.pop(key, None)
            else:
                phone.seen[key] = change
        phone.cursor = answer["cursor"]
        if not answer["has_more"]:
            return
    raise AssertionError("the pull never ended")


def test_a_volunteer_of_the_booth_outside_the_audience_does_not_pull_it(people):
    g, p = people
    meeting_id = _call(p["president"], g.b1, ["block_president"])
    p["volunteer"].pull()
    p["president"].pull()
    assert meeting_id not in p["volunteer"].records("meeting")
    assert meeting_id in p["president"].records("meeting")


@pytest.mark.parametrize("change", ["audience", "unit"])
def test_a_meeting_that_leaves_the_volunteers_sight_is_removed(people, change):
    g, p = people
    meeting_id = _call(p["president"], g.b1, ["volunteer", "block_president"])
    # A change after the meeting's: a page of one ends on the meeting's row, not the last.
    added = p["volunteer"].send("member", new_id(), member_fields(g.b1.id))
    assert added["status"] == "applied"
    _pull_one_at_a_time(p["volunteer"])
    p["president"].pull()
    assert meeting_id in p["volunteer"].records("meeting")
    fields = (
        {"audience_roles": ["block_president"]} if change == "audience" else {"unit_id": g.b2.id}
    )
    assert p["president"].send("meeting", meeting_id, fields, base=1)["status"] == "applied"
    _pull_one_at_a_time(p["volunteer"])
    p["president"].pull()
    assert meeting_id not in p["volunteer"].records("meeting")
    assert p["president"].records("meeting")[meeting_id]["version"] == 2
