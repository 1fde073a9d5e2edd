"""Rules 9 and 12 of docs/protocol.md for meetings and RSVPs, each refusal with its whole
answer (code, text, per-field messages: what the app and the REST clients show), decided
by sync/ alone (tests/sync/test_grievance_rules.py has the audience and rule 9 merge)."""

import pytest

from tests.sync.memory_phone import new_id

DAY = 86_400_000
NOT_ALLOWED_WRITE = {
    "code": "not_allowed",
    "message": "Only leaders call meetings, for their own area.",
    "fields": {"unit_id": ["Outside your area."]},
}
UNKNOWN_UNIT = {
    "code": "unknown_unit",
    "message": "No such unit.",
    "fields": {"unit_id": ["No such unit."]},
}
OUT_OF_RANGE = {
    "code": "validation_error",
    "message": "Some fields are not valid.",
    "fields": {"unit_id": ["A whole number from -2147483648 to 2147483647."]},
}
NOT_ORGANISER = "Only the organiser of this meeting, or a leader above them, changes it."


def meeting_fields(world, unit_id, roles=("volunteer",), **kw):
    return {
        "title": "प्रखंड बैठक",
        "starts_at": world.server.now() + DAY,
        "unit_id": unit_id,
        "audience_roles": list(roles),
        **kw,
    }


def call(world, phone, unit_id, **kw):
    meeting_id = new_id()
    return meeting_id, phone.send("meeting", meeting_id, meeting_fields(world, unit_id, **kw))


def test_a_new_meeting_is_scheduled_with_empty_optional_texts_and_announced(world):
    meeting_id, result = call(world, world.p, world.g.k1.id)
    assert (result["status"], result["version"]) == ("applied", 1)
    record = result["record"]
    assert (record["status"], record["agenda"], record["place"], record["online_url"]) == (
        "scheduled",
        "",
        "",
        "",
    )
    assert [(e.name, e.entity, e.record_id, e.detail) for e in world.server.events] == [
        ("meeting_changed", "meeting", meeting_id, "created")
    ]


def test_a_meeting_keeps_the_optional_texts_it_was_given(world):
    _id, result = call(world, world.p, world.g.k1.id, agenda="एजेंडा", status="cancelled")
    assert (result["record"]["agenda"], result["record"]["status"]) == ("एजेंडा", "cancelled")


@pytest.mark.parametrize(
    ("who", "unit", "error"),
    [
        ("volunteer", "b1", NOT_ALLOWED_WRITE),  # not a leader, even for their own booth
        ("president", "k2", NOT_ALLOWED_WRITE),  # a neighbouring block
        ("president", "d1", NOT_ALLOWED_WRITE),  # the district above
        ("president", "p1", UNKNOWN_UNIT),  # a panchayat holds no meetings
        ("president", 999_999, UNKNOWN_UNIT),
        ("president", 2**31, OUT_OF_RANGE),  # past a database integer
    ],
)
def test_who_may_call_a_meeting_where(world, who, unit, error):
    phone = world.a if who == "volunteer" else world.p
    unit_id = getattr(world.g, unit).id if isinstance(unit, str) else unit
    _id, result = call(world, phone, unit_id)
    assert (result["status"], result["error"]) == ("rejected", error)


@pytest.mark.parametrize("unit", ["k1", "b1", "b2"])
def test_a_block_president_calls_meetings_for_their_block_and_its_booths(world, unit):
    _id, result = call(world, world.p, getattr(world.g, unit).id)
    assert result["status"] == "applied", result


def test_a_meeting_is_cancelled_not_deleted(world):
    meeting_id, _ = call(world, world.p, world.g.k1.id)
    gone = world.p.send("meeting", meeting_id, op="delete", base=1)
    assert gone["error"] == {
        "code": "not_allowed",
        "message": "A meeting is cancelled, not deleted.",
        "fields": {"status": ["Cancel the meeting instead."]},
    }
    outsider = world.phone_of("block_president", world.g.k2)
    assert outsider.send("meeting", meeting_id, op="delete", base=1)["error"]["code"] == (
        "not_found"  # not theirs to see
    )
    missing = world.p.send("meeting", new_id(), op="delete", base=1)
    assert missing["error"] == {
        "code": "not_found",
        "message": "There is no such record on the server.",
        "fields": {},
    }


def test_a_leader_above_the_organiser_changes_the_meeting_and_it_is_announced(world):
    meeting_id, _ = call(world, world.p, world.g.k1.id)
    district = world.phone_of("district_president", world.g.d1)
    changed = district.send("meeting", meeting_id, {"title": "नई बैठक"}, base=1)
    assert (changed["status"], changed["record"]["title"]) == ("applied", "नई बैठक")
    assert [(e.name, e.detail) for e in world.server.events] == [("meeting_changed", "changed")]
    same = district.send("meeting", meeting_id, {"title": "नई बैठक"}, base=2)
    assert (same["status"], same["version"], world.server.events) == ("applied", 2, [])


def test_a_leader_beside_or_below_the_organiser_may_not_change_it(world):
    district = world.phone_of("district_president", world.g.d1)
    meeting_id, _ = call(world, district, world.g.k1.id)
    refused = world.p.send("meeting", meeting_id, {"title": "बदली"}, base=1)
    assert refused["error"] == {
        "code": "not_allowed",
        "message": NOT_ORGANISER,
        "fields": {"unit_id": [NOT_ORGANISER]},
    }
    colleague = world.phone_of("block_president", world.g.k1)
    mine, _ = call(world, world.p, world.g.k1.id)
    assert colleague.send("meeting", mine, {"title": "बदली"}, base=1)["status"] == "applied"


def test_a_meeting_moved_to_a_unit_outside_the_scope_is_refused(world):
    meeting_id, _ = call(world, world.p, world.g.k1.id)
    moved = world.p.send("meeting", meeting_id, {"unit_id": world.g.k2.id}, base=1)
    assert moved["error"] == NOT_ALLOWED_WRITE
    inside = world.p.send("meeting", meeting_id, {"unit_id": world.g.b1.id}, base=1)
    assert (inside["status"], inside["record"]["unit_id"]) == ("applied", world.g.b1.id)


def test_a_cancelled_meeting_changed_again_is_a_change_not_a_cancellation(world):
    meeting_id, _ = call(world, world.p, world.g.k1.id)
    world.p.send("meeting", meeting_id, {"status": "cancelled"}, base=1)
    assert [e.detail for e in world.server.events] == ["cancelled"]
    world.p.send("meeting", meeting_id, {"title": "फिर"}, base=2)
    assert [e.detail for e in world.server.events] == ["changed"]
    world.p.send("meeting", meeting_id, {"status": "scheduled"}, base=3)
    assert [e.detail for e in world.server.events] == ["changed"]


def test_concurrent_meeting_edits_merge_and_clash_as_any_record(world):
    meeting_id, _ = call(world, world.p, world.g.k1.id)
    district = world.phone_of("district_president", world.g.d1)
    world.p.send("meeting", meeting_id, {"title": "पहला"}, base=1)
    other = district.send("meeting", meeting_id, {"agenda": "दूसरा"}, base=1)
    assert (other["status"], other["record"]["title"]) == ("merged", "पहला")
    late = district.mutation(
        "meeting", meeting_id, {"title": "पुराना"}, base=1, hlc=district.hlc(-60_000)
    )
    clash = district.push(late)["results"][0]
    assert clash["status"] == "conflict"
    assert clash["conflicts"] == [{"field": "title", "kept": "पहला", "lost": "पुराना"}]


# ---------------------------------------------------------------- RSVPs


def rsvp(phone, meeting_id, answer="yes", rsvp_id=None, base=None):
    fields = {"meeting_id": meeting_id, "answer": answer} if meeting_id else {"answer": answer}
    return phone.send("rsvp", rsvp_id or new_id(), fields, base=base)


def test_an_rsvp_is_stored_for_its_person(world):
    meeting_id, _ = call(world, world.p, world.g.k1.id)
    result = rsvp(world.a, meeting_id)
    assert (result["status"], result["version"]) == ("applied", 1)
    assert result["record"] == {
        "meeting_id": meeting_id,
        "user_id": world.volunteer,
        "answer": "yes",
    } | {k: v for k, v in result["record"].items() if k not in ("meeting_id", "user_id", "answer")}


def test_an_rsvp_changed_by_its_person_is_applied_or_merged(world):
    meeting_id, _ = call(world, world.p, world.g.k1.id)
    first = rsvp(world.a, meeting_id)
    again = rsvp(world.a, None, "no", first["id"], base=1)
    assert (again["status"], again["version"], again["record"]["answer"]) == ("applied", 2, "no")
    stale = rsvp(world.a, None, "maybe", first["id"], base=1)
    assert (stale["status"], stale["record"]["answer"]) == ("merged", "maybe")
    assert stale["conflicts"] == []


def test_a_second_rsvp_on_an_old_base_merges_into_the_first(world):
    meeting_id, _ = call(world, world.p, world.g.k1.id)
    first = rsvp(world.a, meeting_id)
    other = type(world.a)(world.server, world.volunteer)
    fields = {"meeting_id": meeting_id, "answer": "no"}
    same = other.send("rsvp", new_id(), fields, base=1)
    assert (same["id"], same["status"], same["record"]["answer"]) == (first["id"], "applied", "no")


@pytest.mark.parametrize(
    ("case", "error"),
    [
        (
            "delete",
            {
                "code": "not_allowed",
                "message": "Change the answer instead of deleting it.",
                "fields": {},
            },
        ),
        (
            "no meeting",
            {
                "code": "meeting_missing",
                "message": "No such meeting.",
                "fields": {"meeting_id": ["No such meeting."]},
            },
        ),
        (
            "not the audience",
            {"code": "not_allowed", "message": "This meeting is not meant for you.", "fields": {}},
        ),
        (
            "someone else's",
            {
                "code": "not_allowed",
                "message": "An RSVP is answered by its own person.",
                "fields": {},
            },
        ),
    ],
)
def test_rsvp_refusals(world, case, error):
    meeting_id, _ = call(world, world.p, world.g.k1.id)
    mine = rsvp(world.a, meeting_id)
    if case == "delete":
        result = world.a.send("rsvp", mine["id"], op="delete", base=1)
    elif case == "no meeting":
        result = rsvp(world.a, new_id())
    elif case == "not the audience":
        result = rsvp(world.phone_of("block_president", world.g.k2), meeting_id)
    else:  # the organiser sees the answers to their meeting, but gives none of them
        result = rsvp(world.p, None, "no", mine["id"], base=1)
    assert (result["status"], result["error"]) == ("rejected", error)


def test_an_rsvp_to_a_cancelled_meeting_is_still_taken(world):
    meeting_id, _ = call(world, world.p, world.g.k1.id)
    world.p.send("meeting", meeting_id, {"status": "cancelled"}, base=1)
    assert rsvp(world.a, meeting_id, "no")["status"] == "applied"


def test_the_organiser_answers_their_own_meeting(world):
    meeting_id, _ = call(world, world.p, world.g.k1.id, roles=("volunteer",))
    assert rsvp(world.p, meeting_id)["status"] == "applied"


def test_only_the_audience_and_the_leaders_over_its_unit_read_a_meeting(world):
    """A volunteer of the meeting's own booth left out of its audience does not read it
    (the engine's can_see said so before, the HTTP pull did not)."""
    meeting_id, _ = call(world, world.p, world.g.b1.id, roles=("block_president",))
    world.a.pull()
    world.p.pull()
    assert meeting_id not in world.a.records("meeting")
    assert meeting_id in world.p.records("meeting")


@pytest.mark.parametrize(
    "change",
    [{"audience_roles": ["block_president"]}, {"unit_id": "b2"}],
    ids=["audience", "unit"],
)
def test_a_meeting_that_leaves_a_persons_sight_is_removed_from_their_phone(world, change):
    """Given another audience or moved to another unit, a meeting is `removed` for those
    who read it before and no longer do (rule 10), and stays with those who still do."""
    meeting_id, _ = call(world, world.p, world.g.b1.id, roles=("volunteer",))
    world.a.pull()
    world.p.pull()
    assert meeting_id in world.a.records("meeting")
    if "unit_id" in change:
        change = {"unit_id": world.g.b2.id}
    assert world.p.send("meeting", meeting_id, change, base=1)["status"] == "applied"
    world.a.pull()
    world.p.pull()
    assert meeting_id not in world.a.records("meeting")
    assert world.p.records("meeting")[meeting_id]["version"] == 2
