"""Who may change or cancel a meeting over sync: its organiser, or a leader whose own scope
unit contains the organiser's. Calling a meeting for a unit in one's scope stays open to
every leader; rewriting a meeting called from above is not."""

import pytest
from sqlalchemy import select

from server.extensions import db
from server.meetings.models import Meeting
from server.push.models import PushEvent
from tests.server.syncing.phone import Phone, member_fields, new_id

DAY_MS = 24 * 3600 * 1000


def _meeting_fields(phone, unit, title="प्रखंड बैठक"):
    return {
        "title": title,
        "starts_at": int(phone.hlc()[:13]) + DAY_MS,
        "unit_id": unit.id,
        "audience_roles": ["volunteer", "block_president"],
    }


@pytest.fixture
def leaders(client, make):
    g = make.geo()
    phones = {
        "centre": make.user("connect_centre"),
        "district": make.user("district_president", g.d1),
        "other_district": make.user("district_president", g.d2),
        "block": make.user("block_president", g.k1),
        "fellow": make.user("block_president", g.k1),
    }
    return g, {name: Phone(client, make, user) for name, user in phones.items()}


def _call(organiser, unit):
    meeting_id = new_id()
    created = organiser.send("meeting", meeting_id, _meeting_fields(organiser, unit))
    assert created["status"] == "applied", created
    return meeting_id


def _stored(meeting_id):
    db.session.expire_all()
    return db.session.get(Meeting, meeting_id)


@pytest.mark.parametrize("change", [{"title": "बदला हुआ"}, {"status": "cancelled"}])
def test_a_block_president_cannot_change_the_connect_centres_meeting_for_its_block(leaders, change):
    g, p = leaders
    meeting_id = _call(p["centre"], g.k1)

    result = p["block"].send("meeting", meeting_id, change, base=1)

    assert result["status"] == "rejected"
    assert result["error"]["code"] == "not_allowed"
    assert list(result["error"]["fields"]) == ["unit_id"]
    meeting = _stored(meeting_id)
    assert (meeting.title, meeting.status, meeting.version) == ("प्रखंड बैठक", "scheduled", 1)
    kinds = db.session.scalars(select(PushEvent.kind).where(PushEvent.meeting_id == meeting_id))
    assert "changed" not in kinds and "cancelled" not in kinds


def test_the_rest_of_the_batch_goes_on_after_a_refused_meeting_change(leaders):
    g, p = leaders
    meeting_id = _call(p["district"], g.k1)
    block = p["block"]

    answer = block.push(
        block.mutation("meeting", meeting_id, {"status": "cancelled"}, base=1),
        block.mutation("member", new_id(), member_fields(g.b1)),
    )

    assert [r["status"] for r in answer["results"]] == ["rejected", "applied"]
    assert _stored(meeting_id).status == "scheduled"


def test_the_organiser_changes_and_cancels_its_own_meeting(leaders):
    g, p = leaders
    meeting_id = _call(p["block"], g.k1)

    renamed = p["block"].send("meeting", meeting_id, {"title": "नई बैठक"}, base=1)
    cancelled = p["block"].send("meeting", meeting_id, {"status": "cancelled"}, base=2)

    assert (renamed["status"], cancelled["status"]) == ("applied", "applied")
    assert (_stored(meeting_id).title, _stored(meeting_id).status) == ("नई बैठक", "cancelled")


@pytest.mark.parametrize(
    ("organiser", "changer", "allowed"),
    [
        ("block", "district", True),  # the district contains the organiser's block
        ("block", "centre", True),  # the state contains everything
        ("block", "fellow", True),  # the same block: its scope unit contains the organiser's
        ("district", "centre", True),
        ("district", "block", False),  # a block does not contain the district
        ("centre", "district", False),
        ("centre", "block", False),
    ],
)
def test_a_leader_changes_only_meetings_of_organisers_within_its_scope(
    leaders, organiser, changer, allowed
):
    g, p = leaders
    meeting_id = _call(p[organiser], g.k1)

    result = p[changer].send("meeting", meeting_id, {"agenda": "सदस्यता अभियान"}, base=1)

    assert result["status"] == ("applied" if allowed else "rejected"), result
    assert _stored(meeting_id).agenda == ("सदस्यता अभियान" if allowed else "")


def test_calling_a_meeting_for_a_unit_in_scope_is_unchanged(leaders):
    g, p = leaders
    assert (
        p["block"].send("meeting", new_id(), _meeting_fields(p["block"], g.k1))["status"]
        == "applied"
    )
    outside = p["other_district"].send("meeting", new_id(), _meeting_fields(p["block"], g.k1))
    assert outside["status"] == "rejected"
    assert outside["error"]["code"] == "not_allowed"
