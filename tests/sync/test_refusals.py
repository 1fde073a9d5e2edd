"""Every refusal of the grievance, note, conflict and deleted-member rules with its whole
answer (code, text, per-field messages), and what the losing side of a delete keeps:
the app shows these texts in "needs attention" and the conflict records on every phone."""

from sync.hlc import format_hlc
from tests.sync.memory_phone import member_fields, new_id


def grievance(world, phone=None, **kw):
    gid = new_id()
    fields = {"booth_id": world.g.b1.id, "category": "water", "description": "हैंडपंप", **kw}
    assert (phone or world.a).send("grievance", gid, fields)["status"] == "applied"
    return gid


def refusal(result):
    assert result["status"] == "rejected", result
    return result["error"]


def test_only_the_reporter_edits_a_grievance(world):
    gid = grievance(world)
    assert refusal(world.b.send("grievance", gid, {"description": "बदला"}, base=1)) == {
        "code": "not_allowed",
        "message": "Only the person who reported it edits a grievance.",
        "fields": {},
    }


def test_a_grievance_past_new_takes_only_notes(world):
    gid = grievance(world)
    assert world.p.send("grievance", gid, {"status": "acknowledged"}, base=1)["status"] == (
        "applied"
    )
    message = "The grievance is acknowledged: only notes can be added now."
    assert refusal(world.a.send("grievance", gid, {"description": "बदला"}, base=2)) == {
        "code": "grievance_locked",
        "message": message,
        "fields": {"status": [message]},
    }


def test_a_grievance_resent_with_its_own_values_is_no_edit(world):
    gid = grievance(world)
    same = world.b.send(
        "grievance", gid, {"description": "हैंडपंप", "created_at": 1_600_000_000_000}, base=1
    )
    assert (same["status"], same["version"]) == ("applied", 1)
    assert world.server.db.records[("grievance", gid)].values.get("created_at") != 1_600_000_000_000


def test_a_grievance_moved_to_a_booth_outside_the_area_is_refused(world):
    gid = grievance(world)
    moved = world.a.send("grievance", gid, {"booth_id": world.g.b3.id}, base=1)
    assert refusal(moved) == {
        "code": "out_of_scope",
        "message": "This booth is outside your area.",
        "fields": {"booth_id": ["This booth is outside your area."]},
    }
    unknown = world.a.send("grievance", gid, {"booth_id": 999_999}, base=1)
    assert refusal(unknown) == {
        "code": "unknown_booth",
        "message": "No such booth.",
        "fields": {"booth_id": ["No such booth."]},
    }
    assert world.a.send("grievance", gid, {"booth_id": world.g.b2.id}, base=1)["status"] == (
        "rejected"  # a volunteer's area is their own booth
    )


def test_a_transition_refused_says_from_where_to_where(world):
    gid = grievance(world)
    message = "The grievance is new; it cannot be moved to closed by you."
    assert refusal(world.p.send("grievance", gid, {"status": "closed"}, base=1)) == {
        "code": "transition_not_allowed",
        "message": message,
        "fields": {"status": [message]},
    }


def test_a_moved_grievance_records_who_moved_it_and_when(world):
    gid = grievance(world)
    hlc = world.p.hlc(-5_000)
    moved = world.p.send("grievance", gid, {"status": "acknowledged"}, base=1, hlc=hlc)
    history = moved["record"]["status_history"]
    assert history[-1] == {
        "status": "acknowledged",
        "at": int(hlc[:13]),
        "by": world.president,
    }
    ahead = world.p.hlc(30_000)
    moved = world.p.send("grievance", gid, {"status": "in_progress"}, base=2, hlc=ahead)
    now = world.server.now() - 1  # the clock moved on by one after the push
    assert moved["record"]["status_history"][-1]["at"] == now


def test_notes_are_append_only(world):
    gid = grievance(world)
    note_id = new_id()
    fields = {"grievance_id": gid, "text": "पानी नहीं"}
    assert world.a.send("grievance_note", note_id, fields)["status"] == "applied"
    again = world.a.send("grievance_note", note_id, fields)
    assert (again["status"], again["version"]) == ("applied", 1)
    append_only = {
        "code": "append_only",
        "message": "Notes cannot be changed or removed.",
        "fields": {},
    }
    changed = world.a.send("grievance_note", note_id, {**fields, "text": "बदला"})
    assert refusal(changed) == append_only
    assert refusal(world.a.send("grievance_note", note_id, op="delete", base=1)) == append_only
    assert refusal(world.a.send("grievance_note", new_id(), op="delete")) == append_only


def test_a_note_needs_a_grievance_its_writer_can_see(world):
    missing = {
        "code": "grievance_missing",
        "message": "The grievance of this note is not on the server.",
        "fields": {"grievance_id": ["No such grievance."]},
    }
    note = {"grievance_id": new_id(), "text": "नोट"}
    assert refusal(world.a.send("grievance_note", new_id(), note)) == missing
    hidden = grievance(world, category="party_conduct")
    note = {"grievance_id": hidden, "text": "नोट"}
    assert refusal(world.p.send("grievance_note", new_id(), note)) == missing
    gone = grievance(world)
    world.server.db.records[("grievance", gone)].deleted = True  # as a deleted one is stored
    assert refusal(world.a.send("grievance_note", new_id(), {**note, "grievance_id": gone})) == (
        missing
    )


def test_a_note_is_filed_under_its_grievances_booth(world):
    gid = grievance(world)
    result = world.p.send("grievance_note", new_id(), {"grievance_id": gid, "text": "देखा"})
    assert (result["status"], result["record"]["booth_id"]) == ("applied", world.g.b1.id)


def lost_edit(world):
    gid = grievance(world)
    world.a.send("grievance", gid, {"description": "नया"}, base=1)
    second = type(world.a)(world.server, world.volunteer)
    lost = second.send("grievance", gid, {"description": "पुराना"}, base=1, hlc=second.hlc(-60_000))
    assert lost["status"] == "conflict"
    world.a.pull()
    [conflict_id] = world.a.records("conflict")
    return conflict_id


def test_conflict_refusals(world):
    conflict_id = lost_edit(world)
    assert refusal(world.a.send("conflict", conflict_id, op="delete", base=1)) == {
        "code": "not_allowed",
        "message": "Resolve a conflict instead of deleting it.",
        "fields": {},
    }
    assert refusal(world.b.send("conflict", conflict_id, {"resolved": True}, base=1)) == {
        "code": "not_allowed",
        "message": "Only its author or the block president resolves it.",
        "fields": {},
    }
    assert refusal(world.a.send("conflict", new_id(), {"resolved": True}, base=1)) == {
        "code": "not_found",
        "message": "There is no such conflict on the server.",
        "fields": {},
    }


def test_a_conflict_resolved_twice_on_an_old_base_merges(world):
    conflict_id = lost_edit(world)
    first = world.a.send("conflict", conflict_id, {"resolved": True}, base=1)
    assert (first["status"], first["version"]) == ("applied", 2)
    again = world.p.send("conflict", conflict_id, {"resolved": True}, base=1)
    assert (again["status"], again["version"]) == ("merged", 2)
    nothing = world.a.send("conflict", conflict_id, {}, base=2)
    assert (nothing["status"], nothing["version"]) == ("applied", 2)


def test_an_edit_that_lost_to_a_delete_is_kept_for_its_author(world):
    member_id = new_id()
    world.a.send("member", member_id, member_fields(world.g.b1))
    deleted = world.b.send("member", member_id, op="delete", base=1)
    assert deleted["status"] == "applied"
    lost = world.a.send("member", member_id, {"name": "देर से"}, base=1)
    assert lost["status"] == "conflict"
    assert lost["conflicts"] == [{"field": "name", "kept": None, "lost": "देर से"}]
    world.a.pull()
    [conflict] = world.a.records("conflict").values()
    assert (conflict["kind"], conflict["lost"], conflict["kept"], conflict["author_id"]) == (
        "delete",
        {"name": "देर से"},
        {"deleted": True},
        world.volunteer,
    )
    assert conflict["lost_hlc"][:13].isdigit() and conflict["lost_hlc"].endswith(world.a.device_id)
    empty = world.a.send("member", member_id, {}, base=1)
    assert (empty["status"], empty["conflicts"]) == ("applied", [])


def test_an_edit_of_an_erased_member_is_refused_with_why(world):
    member_id = new_id()
    world.a.send("member", member_id, member_fields(world.g.b1))
    world.b.send("member", member_id, {"consent": False}, base=1)
    late = world.a.send("member", member_id, {"name": "देर से"}, base=1)
    assert refusal(late) == {
        "code": "consent_withdrawn",
        "message": "This member withdrew consent and was removed from the roster.",
        "fields": {"consent": ["Consent was withdrawn; ask again before re-adding."]},
    }


def test_a_change_stamped_with_another_devices_clock_is_refused(world):
    member_id = new_id()
    stamp = format_hlc(world.server.now(), 0, world.b.device_id)
    result = world.a.send("member", member_id, member_fields(world.g.b1), hlc=stamp)
    message = "The clock stamp names another device; stamp changes with this device's id."
    assert refusal(result) == {
        "code": "hlc_device_mismatch",
        "message": message,
        "fields": {"hlc": [message]},
    }
    assert world.server.db.records == {}


def test_a_change_with_a_malformed_envelope_is_refused_with_each_problem(world):
    result = world.a.send("member", "not-a-uuid", member_fields(world.g.b1), base=-1)
    assert refusal(result) == {
        "code": "validation_error",
        "message": "The change is malformed.",
        "fields": {"id": ["Not a valid id."], "base_version": ["A version number or null."]},
    }
    assert world.server.db.records == {}


def test_a_conflict_unresolved_and_resolved_on_one_base_goes_to_the_later_answer(world):
    """`resolved` follows rule 2 like any field: of two answers on the same base, the
    later HLC counts (the app only ever resolves; the wire also takes false)."""
    conflict_id = lost_edit(world)
    unresolved_at = world.a.hlc(-60_000)  # typed before the resolve
    resolved = world.p.send("conflict", conflict_id, {"resolved": True}, base=1)
    assert (resolved["status"], resolved["record"]["resolved"]) == ("applied", True)
    older = world.a.send("conflict", conflict_id, {"resolved": False}, base=1, hlc=unresolved_at)
    assert (older["status"], older["version"], older["record"]["resolved"]) == ("merged", 2, True)
    newer = world.a.send("conflict", conflict_id, {"resolved": False}, base=1)
    assert (newer["status"], newer["version"], newer["record"]["resolved"]) == ("merged", 3, False)
