"""Rules 8 to 10 of docs/protocol.md for grievances, notes, meetings, RSVPs and conflict
records, decided by sync/ alone (an in-memory store; tests/server/syncing/test_rules.py,
test_visibility.py and test_unseen_records.py run the same through HTTP)."""

import pytest

from tests.sync.memory_phone import MemoryPhone, member_fields, new_id

DAY = 86_400_000
STATUSES = ("new", "acknowledged", "in_progress", "resolved", "reopened", "closed", "withdrawn")
# The life cycle of a grievance: who may move it from one state to the next. "author" is
# whoever reported it or a volunteer of its booth, "handler" a leader whose area holds it.
LIFE_CYCLE = {
    ("new", "acknowledged"): "handler",
    ("new", "withdrawn"): "author",
    ("acknowledged", "in_progress"): "handler",
    ("acknowledged", "withdrawn"): "author",
    ("in_progress", "resolved"): "handler",
    ("in_progress", "withdrawn"): "author",
    ("resolved", "closed"): "either",
    ("resolved", "reopened"): "author",
    ("reopened", "in_progress"): "handler",
    ("reopened", "resolved"): "handler",
}
# Who tries, what they count as, and their scope unit.
MOVERS = {
    "reporter": ("author", "volunteer", None),
    "booth volunteer": ("author", "volunteer", "b1"),
    "block president": ("handler", "block_president", "k1"),
    "district president": ("handler", "district_president", "d1"),
    "connect centre": ("handler", "connect_centre", None),
}


def grievance_fields(booth, **kw):
    return {"booth_id": booth.id, "category": "water", "description": "हैंडपंप खराब है", **kw}


def report(world, category="water", phone=None, **kw):
    gid = new_id()
    result = (phone or world.a).send(
        "grievance", gid, grievance_fields(world.g.b1, category=category, **kw)
    )
    assert result["status"] == "applied", result
    return gid


def force_status(world, gid, status):
    """Put a stored grievance in `status` directly (the way there is tested elsewhere)."""
    world.server.db.records[("grievance", gid)].values["status"] = status


@pytest.mark.parametrize("mover", MOVERS)
@pytest.mark.parametrize(
    ("current", "wanted"), [(c, w) for c in STATUSES for w in STATUSES if c != w]
)
def test_rule8_a_grievance_moves_along_its_life_cycle_by_allowed_roles(
    world, mover, current, wanted
):
    gid = report(world)
    force_status(world, gid, current)
    kind, role, unit = MOVERS[mover]
    phone = (
        world.a if mover == "reporter" else world.phone_of(role, unit and getattr(world.g, unit))
    )
    result = phone.send("grievance", gid, {"status": wanted}, base=1)
    needed = LIFE_CYCLE.get((current, wanted))
    if needed in (kind, "either"):
        assert result["status"] == "applied", result
        history = result["record"]["status_history"]
        assert (history[-1]["status"], history[-1]["by"]) == (wanted, phone.user_id)
    else:
        assert (result["status"], result["error"]["code"]) == ("rejected", "transition_not_allowed")
        assert result["record"]["status"] == current


def test_rule8_a_new_grievance_gets_a_reference_and_a_due_date_from_when_it_was_typed(world):
    gid = new_id()
    typed_at = int(world.a.hlc()[:13])
    created = world.a.send(
        "grievance", gid, grievance_fields(world.g.b1, created_at=typed_at - DAY)
    )
    record = created["record"]
    assert (record["status"], record["ref_no"]) == ("new", "RAN-2026-000001")
    assert (record["reported_at"], record["due_at"]) == (typed_at - DAY, typed_at + 20 * DAY)
    second = world.b.send("grievance", new_id(), grievance_fields(world.g.b1))
    assert second["record"]["ref_no"] == "RAN-2026-000002"
    refused = world.a.send("grievance", new_id(), grievance_fields(world.g.b1, status="resolved"))
    assert refused["error"]["code"] == "transition_not_allowed"
    assert world.server.db.serials == {(world.g.d1.id, 2026): 2}  # a refusal takes no number


def test_rule8_a_phone_clock_from_before_its_registration_counts_from_registration(world):
    slow = type(world.a)(world.server, world.volunteer, clock_offset_ms=-400 * DAY)
    registered = world.server.db.devices[slow.device_id]["registered_at"]
    typed_at = int(slow.hlc()[:13])  # what the phone's clock says
    created = slow.send("grievance", new_id(), grievance_fields(world.g.b1, created_at=typed_at))
    assert created["status"] == "applied", created
    assert created["record"]["reported_at"] == registered
    assert created["record"]["due_at"] == registered + 21 * DAY


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("a", "new", None),
        ("b", "new", "not_allowed"),  # only the reporter edits it
        ("a", "acknowledged", "grievance_locked"),
        ("a", "resolved", "grievance_locked"),
    ],
)
def test_rule8_only_the_reporter_edits_a_grievance_and_only_while_it_is_new(
    world, who, status, code
):
    gid = report(world)
    force_status(world, gid, status)
    result = getattr(world, who).send("grievance", gid, {"description": "बदला"}, base=1)
    if code is None:
        assert result["status"] == "applied"
        return
    assert (result["status"], result["error"]["code"]) == ("rejected", code)
    if code == "grievance_locked":
        assert status in result["error"]["message"]


def test_rule8_a_grievance_is_withdrawn_not_deleted(world):
    gid = report(world)
    result = world.a.send("grievance", gid, op="delete", base=1)
    assert (result["status"], result["error"]["code"]) == ("rejected", "not_allowed")


@pytest.mark.parametrize(
    ("role", "unit", "sees"),
    [
        ("volunteer", "b1", True),
        ("block_president", "k1", False),
        ("district_president", "d1", False),
        ("connect_centre", None, True),
        ("admin", None, True),
    ],
)
def test_rule8_a_complaint_about_an_office_bearer_is_not_routed_to_the_block(
    world, role, unit, sees
):
    gid = report(world, "party_conduct", against="block president")
    phone = world.phone_of(role, unit and getattr(world.g, unit))
    phone.pull()
    assert (gid in phone.records("grievance")) is sees
    moved = phone.send("grievance", gid, {"status": "acknowledged"}, base=1)
    if role == "volunteer":
        assert moved["error"]["code"] == "transition_not_allowed"
    elif sees:
        assert moved["status"] == "applied"
    else:
        # Answered as a grievance that does not exist: neither it nor its category is told.
        assert (moved["status"], moved["error"]["code"], moved["record"]) == (
            "rejected",
            "not_found",
            None,
        )


@pytest.mark.parametrize(
    ("role", "unit", "category"),
    [
        ("block_president", "k1", "party_conduct"),
        ("district_president", "d1", "party_conduct"),
        ("volunteer", "b2", "road"),
    ],
)
def test_a_grievance_one_cannot_read_is_answered_as_a_missing_one(world, role, unit, category):
    gid = report(world, category)
    phone = world.phone_of(role, getattr(world.g, unit))
    edit = phone.send("grievance", gid, {"status": "acknowledged"}, base=1)
    assert (edit["status"], edit["error"]["code"], edit["record"]) == (
        "rejected",
        "not_found",
        None,
    )
    gone = phone.send("grievance", gid, base=1, op="delete")
    missing = phone.send("grievance", new_id(), base=1, op="delete")
    assert (gone["status"], gone["error"], gone["record"]) == ("rejected", missing["error"], None)
    assert "Connect Centre" not in str((edit, gone))


def test_notes_and_conflicts_follow_a_reclassified_grievance(world):
    gid = report(world, "road")
    note_id = new_id()
    world.a.send("grievance_note", note_id, {"grievance_id": gid, "text": "फोटो"})
    world.a.send("grievance", gid, {"against": "मुखिया"}, base=1)
    second = type(world.a)(world.server, world.volunteer)  # another phone of the reporter
    clash = second.send("grievance", gid, {"against": "सचिव"}, base=1, hlc=second.hlc(-60_000))
    assert clash["status"] == "conflict"
    world.p.pull()
    held = set(world.p.seen)
    assert {("grievance", gid), ("grievance_note", note_id)} < held and len(held) == 3
    moved = world.a.send("grievance", gid, {"category": "party_conduct"}, base=2)
    assert moved["status"] == "applied", moved
    answer = world.p.pull()
    assert {(c["entity"], c["id"]) for c in answer["changes"] if c.get("removed")} == held
    assert world.p.seen == {}
    world.a.send("grievance", gid, {"category": "road"}, base=moved["version"])
    world.p.pull()
    assert set(world.p.seen) == held


# ---------------------------------------------------------------- notes (rule 9)


def test_rule9_notes_are_append_only_and_never_conflict(world):
    gid = report(world)
    note_id = new_id()
    note = world.b.send("grievance_note", note_id, {"grievance_id": gid, "text": "मुखिया को बताया"})
    assert (note["status"], note["record"]["booth_id"]) == ("applied", world.g.b1.id)
    again = world.b.send("grievance_note", note_id, {"grievance_id": gid, "text": "मुखिया को बताया"})
    assert again["status"] == "applied"  # the same note sent again
    for fields, op in (({"text": "changed"}, "upsert"), (None, "delete")):
        changed = world.a.send("grievance_note", note_id, fields, base=1, op=op)
        assert changed["error"]["code"] == "append_only"
    other = world.p.send("grievance_note", new_id(), {"grievance_id": gid, "text": "देख रहे हैं"})
    assert other["status"] == "applied"


@pytest.mark.parametrize("leader", [("block_president", "k1"), ("district_president", "d1")])
def test_a_note_on_a_complaint_one_cannot_read_is_answered_as_for_a_missing_one(world, leader):
    gid = report(world, "party_conduct")
    phone = world.phone_of(leader[0], getattr(world.g, leader[1]))
    answer = phone.send("grievance_note", new_id(), {"grievance_id": gid, "text": "देखा"})
    missing = phone.send("grievance_note", new_id(), {"grievance_id": new_id(), "text": "देखा"})
    assert answer["status"] == "rejected" and answer["error"] == missing["error"]
    assert "Connect Centre" not in str(answer)


# ---------------------------------------------------------------- conflict records


def lost_grievance_edit(world, category):
    gid = report(world, category)
    world.a.send("grievance", gid, {"description": "नया"}, base=1)
    second = type(world.a)(world.server, world.volunteer)  # another phone of the reporter
    lost = second.send("grievance", gid, {"description": "पुराना"}, base=1, hlc=second.hlc(-60_000))
    assert lost["status"] == "conflict"
    world.a.pull()
    [conflict_id] = world.a.records("conflict")
    return conflict_id


@pytest.mark.parametrize(
    ("role", "unit", "category", "answer"),
    [
        ("author", None, "party_conduct", "applied"),
        ("volunteer", "b1", "road", "not_allowed"),  # sees it, but it is not theirs
        ("volunteer", "b2", "road", "missing"),
        ("block_president", "k1", "road", "applied"),
        ("block_president", "k1", "party_conduct", "missing"),
        ("district_president", "d1", "party_conduct", "missing"),
        ("connect_centre", None, "party_conduct", "applied"),
    ],
)
def test_who_resolves_a_conflict_record(world, role, unit, category, answer):
    conflict_id = lost_grievance_edit(world, category)
    author = {"author": world.a}.get(role)
    phone = author or world.phone_of(role, unit and getattr(world.g, unit))
    result = phone.send("conflict", conflict_id, {"resolved": True}, base=1)
    if answer == "applied":
        assert (result["status"], result["record"]["resolved"]) == ("applied", True)
    elif answer == "not_allowed":
        assert (result["status"], result["error"]["code"]) == ("rejected", "not_allowed")
    else:
        missing = phone.send("conflict", new_id(), {"resolved": True}, base=1)
        assert result["status"] == "rejected" and result["error"] == missing["error"]
        assert result["record"] is None


def test_conflicts_about_a_member_follow_it_out_of_sight(world):
    member_id = new_id()
    world.a.send("member", member_id, member_fields(world.g.b1))
    assert world.p.send("member", member_id, {"name": "सीता"}, base=1)["status"] == "applied"
    lost = world.a.send("member", member_id, {"name": "गीता"}, base=1, hlc=world.a.hlc(-60_000))
    assert lost["status"] == "conflict", lost
    world.a.pull()
    [conflict_id] = world.a.records("conflict")
    district = world.phone_of("district_president", world.g.d1)
    assert (
        district.send("member", member_id, {"booth_id": world.g.b3.id}, base=2)["status"]
        == "applied"
    )
    world.a.pull()
    assert world.a.seen == {}
    newcomer = world.phone_of("volunteer", world.g.b3)
    newcomer.pull()
    assert [c["booth_id"] for c in newcomer.records("conflict").values()] == [world.g.b3.id]
    answer = world.a.send("conflict", conflict_id, {"resolved": True}, base=1)
    assert (answer["error"]["code"], answer["record"]) == ("not_found", None)
    edit = world.a.send("member", member_id, {"name": "रीता"}, base=3)
    assert edit["error"]["code"] == "not_found"


# ---------------------------------------------------------------- meetings and RSVPs


def call_meeting(world, unit, roles=("volunteer", "block_president"), phone=None):
    meeting_id = new_id()
    fields = {
        "title": "प्रखंड बैठक",
        "starts_at": world.server.now() + DAY,
        "unit_id": unit.id,
        "audience_roles": list(roles),
    }
    created = (phone or world.p).send("meeting", meeting_id, fields)
    assert created["status"] == "applied", created
    return meeting_id


def test_rule9_two_rsvps_from_one_person_merge_into_one(world):
    meeting_id = call_meeting(world, world.g.k1)
    second_phone = type(world.a)(world.server, world.volunteer)
    first = world.a.send("rsvp", new_id(), {"meeting_id": meeting_id, "answer": "yes"})
    second = second_phone.send("rsvp", new_id(), {"meeting_id": meeting_id, "answer": "maybe"})
    assert (second["status"], second["id"]) == ("merged", first["id"])
    assert second["record"]["answer"] == "maybe"


@pytest.mark.parametrize(
    ("unit", "roles", "reaches"),
    [
        ("k1", ["volunteer"], True),
        ("k1", ["block_president"], False),  # not for volunteers
        ("k2", ["volunteer"], False),  # another block
        ("ac", ["volunteer"], True),  # the assembly seat holding booth b1
        ("ls", ["volunteer"], True),
    ],
)
def test_an_rsvp_is_for_the_meetings_audience(world, unit, roles, reaches):
    organiser = world.phone_of("connect_centre")
    meeting_id = call_meeting(world, getattr(world.g, unit), roles, organiser)
    result = world.a.send("rsvp", new_id(), {"meeting_id": meeting_id, "answer": "yes"})
    assert result["status"] == ("applied" if reaches else "rejected"), result


def test_a_meeting_is_changed_by_its_organiser_or_a_leader_above_them(world):
    centre = world.phone_of("connect_centre")
    meeting_id = call_meeting(world, world.g.k1, phone=centre)
    refused = world.p.send("meeting", meeting_id, {"title": "बदली"}, base=1)
    assert (refused["status"], refused["error"]["code"]) == ("rejected", "not_allowed")
    changed = centre.send("meeting", meeting_id, {"status": "cancelled"}, base=1)
    assert changed["status"] == "applied"
    assert [(e.name, e.detail) for e in world.server.events] == [("meeting_changed", "cancelled")]
    gone = centre.send("meeting", meeting_id, op="delete", base=2)
    assert gone["error"]["code"] == "not_allowed"


def test_a_grievance_moved_by_its_reporter_to_another_booth_of_their_area_moves(world):
    """A block president's new complaint put on the wrong booth and moved: the move is
    kept (it was answered `applied` and left the booth unchanged), and a clash on another
    field at the same time is filed where the grievance now is."""
    gid = new_id()
    fields = {"booth_id": world.g.b1.id, "category": "water", "description": "हैंडपंप"}
    assert world.p.send("grievance", gid, fields)["status"] == "applied"
    moved = world.p.send("grievance", gid, {"booth_id": world.g.b2.id}, base=1)
    assert (moved["status"], moved["version"]) == ("applied", 2)
    assert moved["record"]["booth_id"] == world.g.b2.id
    assert world.server.db.records[("grievance", gid)].values["booth_id"] == world.g.b2.id
    second = MemoryPhone(world.server, world.president)
    late = {"booth_id": world.g.b1.id, "description": "नल"}
    late = second.send("grievance", gid, late, base=1, hlc=second.hlc(-60_000))
    assert late["status"] == "conflict", late
    assert late["record"]["booth_id"] == world.g.b2.id  # the later move wins (rule 2)
    assert late["record"]["description"] == "नल"
    assert late["conflicts"] == [
        {"field": "booth_id", "kept": world.g.b2.id, "lost": world.g.b1.id}
    ]
    [conflict] = [r for (e, _), r in world.server.db.records.items() if e == "conflict"]
    assert conflict.values["booth_id"] == world.g.b2.id  # filed where the grievance is
