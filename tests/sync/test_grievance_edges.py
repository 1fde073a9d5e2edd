"""A grievance's rules (rules 8 and 9 of docs/protocol.md) at their edges, with whole
answers: deletes and creation refused with their messages, what a new grievance starts
with, the office-bearer complaint its own reporter cannot handle, clashing edits kept,
and notes filed with what the audit log says. Decided by sync/ alone."""

import pytest

from sync.hlc import millis
from tests.sync.memory_phone import new_id
from tests.sync.test_grievance_rules import grievance_fields, report

NO_RECORD = {"code": "not_found", "message": "There is no such record on the server.", "fields": {}}


def refusal(result):
    assert result["status"] == "rejected", result
    return result["error"]


def test_a_grievance_is_withdrawn_not_deleted_and_a_missing_one_is_not_found(world):
    gid = report(world)
    assert refusal(world.a.send("grievance", gid, op="delete", base=1)) == {
        "code": "not_allowed",
        "message": "A grievance is withdrawn, not deleted.",
        "fields": {"status": ["Withdraw the grievance instead."]},
    }
    assert refusal(world.a.send("grievance", new_id(), op="delete", base=1)) == NO_RECORD


@pytest.mark.parametrize("status", ["acknowledged", "resolved", "withdrawn"])
def test_a_new_grievance_starts_as_new(world, status):
    fields = grievance_fields(world.g.b1, status=status)
    assert refusal(world.a.send("grievance", new_id(), fields)) == {
        "code": "transition_not_allowed",
        "message": "A new grievance starts as new.",
        "fields": {"status": ["A new grievance starts as new."]},
    }


def test_a_new_grievance_needs_its_required_fields(world):
    fields = grievance_fields(world.g.b1)
    del fields["description"]
    assert refusal(world.a.send("grievance", new_id(), fields))["fields"] == {
        "description": ["This is required."]
    }


def test_a_new_grievance_starts_its_history_and_leaves_the_optional_fields_empty(world):
    typed = world.a.hlc(-7000)
    gid = new_id()
    record = world.a.send("grievance", gid, grievance_fields(world.g.b1), hlc=typed)["record"]
    assert record["status_history"] == [
        {"status": "new", "at": millis(typed), "by": world.volunteer}
    ]
    assert (record["complainant_name"], record["against"], record["created_by"]) == (
        "",
        "",
        world.volunteer,
    )
    assert world.server.db.audit[-1][:4] == ("create", "grievance", gid, 1)


def test_the_reporter_of_a_complaint_about_an_office_bearer_cannot_handle_it(world):
    """A block president who reports a complaint about party conduct follows it, and may
    withdraw it as its author, but only the Connect Centre acknowledges it."""
    gid = report(world, category="party_conduct", phone=world.p)
    acknowledged = world.p.send("grievance", gid, {"status": "acknowledged"}, base=1)
    assert refusal(acknowledged)["code"] == "transition_not_allowed"
    centre = world.phone_of("connect_centre")
    assert centre.send("grievance", gid, {"status": "acknowledged"}, base=1)["status"] == "applied"
    other = report(world, phone=world.p)
    assert world.p.send("grievance", other, {"status": "acknowledged"}, base=1)["status"] == (
        "applied"
    )


def test_a_volunteer_of_another_booth_cannot_move_it(world):
    gid = report(world)
    stranger = world.phone_of("volunteer", world.g.b2)
    assert refusal(stranger.send("grievance", gid, {"status": "withdrawn"}, base=1)) == NO_RECORD


def test_a_status_history_grows_by_one_entry_a_move(world):
    gid = report(world)
    moved_at = world.p.hlc(-3000)
    world.p.send("grievance", gid, {"status": "acknowledged"}, base=1, hlc=moved_at)
    history = world.server.db.records[("grievance", gid)].values["status_history"]
    assert [(h["status"], h["by"]) for h in history] == [
        ("new", world.volunteer),
        ("acknowledged", world.president),
    ]
    assert history[1]["at"] == millis(moved_at)


def test_an_edit_of_a_new_grievance_that_lost_is_kept_for_its_author(world):
    gid = report(world)
    first = world.a.send("grievance", gid, {"description": "पहला"}, base=1, hlc=world.a.hlc())
    # The same phone's own write is never a clash: a second phone of the reporter is.
    second_phone = type(world.a)(world.server, world.volunteer)
    late = second_phone.hlc(-60_000)
    lost = second_phone.send("grievance", gid, {"description": "दूसरा"}, base=1, hlc=late)
    assert (lost["status"], lost["conflicts"]) == (
        "conflict",
        [{"field": "description", "kept": "पहला", "lost": "दूसरा"}],
    )
    assert first["version"] == lost["version"] == 2
    world.a.pull()
    [conflict] = world.a.records("conflict").values()
    assert (conflict["lost_hlc"], conflict["author_id"]) == (late, world.volunteer)


def test_a_note_is_filed_under_its_grievances_booth_and_audited(world):
    gid = report(world)
    note_id = new_id()
    note = world.p.send("grievance_note", note_id, {"grievance_id": gid, "text": "देखा"})
    assert note["status"] == "applied"
    assert (note["record"]["booth_id"], note["record"]["created_by"]) == (
        world.g.b1.id,
        world.president,
    )
    assert world.server.db.audit[-1] == (
        "create",
        "grievance_note",
        note_id,
        1,
        ["booth_id", "grievance_id", "text"],
    )
    missing = world.p.send("grievance_note", new_id(), {"grievance_id": gid})
    assert refusal(missing)["fields"] == {"text": ["This is required."]}
    resent = world.p.send("grievance_note", note_id, {"grievance_id": gid, "text": "देखा"})
    assert (resent["status"], resent["version"]) == ("applied", 1)
