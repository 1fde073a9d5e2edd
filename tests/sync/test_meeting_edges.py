"""Meetings and RSVPs (rules 9 and 12 of docs/protocol.md) at their edges: a missing
meeting's delete, required fields, an RSVP that names another meeting, and what the audit
log says of each write (server/syncing/writing.py keeps the same entries)."""

from tests.sync.memory_phone import new_id
from tests.sync.test_meeting_rules import call, meeting_fields, rsvp


def test_deleting_a_meeting_never_on_the_server_is_not_found(world):
    result = world.p.send("meeting", new_id(), op="delete", base=1)
    assert (result["status"], result["error"]) == (
        "rejected",
        {"code": "not_found", "message": "There is no such record on the server.", "fields": {}},
    )


def test_a_new_meeting_needs_its_title_and_an_rsvp_its_answer(world):
    fields = meeting_fields(world, world.g.k1.id)
    del fields["title"]
    result = world.p.send("meeting", new_id(), fields)
    assert (result["status"], result["error"]["fields"]) == (
        "rejected",
        {"title": ["This is required."]},
    )
    meeting_id, _ = call(world, world.p, world.g.k1.id)
    answerless = world.a.send("rsvp", new_id(), {"meeting_id": meeting_id})
    assert answerless["error"]["fields"] == {"answer": ["This is required."]}


def test_a_meeting_edit_may_leave_out_what_a_new_one_needs(world):
    meeting_id, _ = call(world, world.p, world.g.k1.id)
    edited = world.p.send("meeting", meeting_id, {"agenda": "नया"}, base=1)
    assert (edited["status"], edited["record"]["agenda"]) == ("applied", "नया")


def test_an_rsvp_stays_with_its_meeting_whatever_an_edit_names(world):
    first, _ = call(world, world.p, world.g.k1.id)
    second, _ = call(world, world.p, world.g.k1.id)
    mine = rsvp(world.a, first)
    moved = world.a.send("rsvp", mine["id"], {"meeting_id": second, "answer": "no"}, base=1)
    assert (moved["status"], moved["record"]["meeting_id"]) == ("applied", first)
    assert moved["record"]["answer"] == "no"


def test_the_audit_log_names_each_meeting_and_rsvp_write(world):
    meeting_id, _ = call(world, world.p, world.g.k1.id)
    audit = world.server.db.audit
    assert audit[-1][:4] == ("create", "meeting", meeting_id, 1)
    assert {"status", "title", "unit_id"} <= set(audit[-1][4])
    mine = rsvp(world.a, meeting_id)
    assert audit[-1] == ("create", "rsvp", mine["id"], 1, ["answer", "meeting_id", "user_id"])
    rsvp(world.a, None, "no", mine["id"], base=1)
    assert audit[-1] == ("update", "rsvp", mine["id"], 2, ["answer"])
    world.p.send("meeting", meeting_id, {"status": "cancelled"}, base=1)
    assert audit[-1] == ("update", "meeting", meeting_id, 2, ["status"])


def test_an_rsvp_is_read_by_its_person_and_the_leaders_over_the_meeting_only(world):
    meeting_id, _ = call(world, world.p, world.g.b1.id)
    mine = rsvp(world.a, meeting_id)
    for phone, sees in ((world.a, True), (world.b, False), (world.p, True)):
        phone.pull()
        assert (mine["id"] in phone.records("rsvp")) is sees


def test_a_meeting_edited_without_a_base_clashes_with_its_creation(world):
    """No base: the editor saw nothing, so every field written since the creation is newer
    news to them; the later stamp wins and the other value is kept."""
    meeting_id, _ = call(world, world.p, world.g.k1.id)
    district = world.phone_of("district_president", world.g.d1)
    late = district.send("meeting", meeting_id, {"title": "नया"}, base=None)
    assert (late["status"], late["record"]["title"]) == ("conflict", "नया")
    assert late["conflicts"] == [{"field": "title", "kept": "नया", "lost": "प्रखंड बैठक"}]
