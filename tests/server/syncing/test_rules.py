"""Each rule of docs/protocol.md, through the HTTP endpoints."""

import pytest

from tests.server.syncing.phone import Phone, member_fields, new_id

DAY = 86_400_000


@pytest.fixture
def world(client, make):
    g = make.geo()
    w = type("World", (), {})()
    w.g = g
    w.volunteer = make.user("volunteer", g.b1, name="Sita")
    w.volunteer2 = make.user("volunteer", g.b1, name="Gita")
    w.president = make.user("block_president", g.k1)
    w.a = Phone(client, make, w.volunteer)
    w.b = Phone(client, make, w.volunteer2)
    w.p = Phone(client, make, w.president)
    return w


def add_member(device, booth, **kw):
    member_id = new_id()
    result = device.send("member", member_id, member_fields(booth, **kw))
    assert result["status"] in ("applied", "merged"), result
    return member_id, result["version"]


def test_rule1_fields_changed_on_one_side_each_are_all_kept(world):
    member_id, v = add_member(world.a, world.g.b1)
    first = world.a.send("member", member_id, {"phone": "9123456780"}, base=v)
    second = world.b.send("member", member_id, {"name": "राम प्रसाद"}, base=v)
    assert first["status"] == "applied"
    assert second["status"] == "merged"
    assert second["record"]["phone"] == "9123456780"
    assert second["record"]["name"] == "राम प्रसाद"
    assert second["conflicts"] == []


def test_rule2_same_field_later_hlc_wins_and_loser_is_kept_as_conflict(world):
    member_id, v = add_member(world.a, world.g.b1)
    later = world.a.mutation(
        "member", member_id, {"name": "Later"}, base=v, hlc=world.a.hlc(offset_ms=-1000)
    )
    earlier = world.b.mutation(
        "member", member_id, {"name": "Earlier"}, base=v, hlc=world.b.hlc(offset_ms=-5000)
    )
    assert world.a.push(later)["results"][0]["status"] == "applied"
    result = world.b.push(earlier)["results"][0]
    assert result["status"] == "conflict"
    assert result["conflicts"] == [{"field": "name", "kept": "Later", "lost": "Earlier"}]
    assert result["record"]["name"] == "Later"
    # The author of the lost value and the block president both see the conflict.
    for phone in (world.b, world.p):
        phone.pull()
        conflicts = list(phone.records("conflict").values())
        assert [(c["lost"], c["author_id"]) for c in conflicts] == [
            ({"name": "Earlier"}, world.volunteer2.id)
        ]


def test_rule2_an_hlc_from_the_future_counts_as_its_arrival(world):
    member_id, v = add_member(world.a, world.g.b1)
    # A phone whose clock runs two days ahead: its stamp counts as the moment it arrived.
    ahead = world.a.mutation(
        "member", member_id, {"name": "Ahead"}, base=v, hlc=world.a.hlc(offset_ms=2 * DAY)
    )
    world.a.push(ahead)
    honest = world.b.mutation(
        "member", member_id, {"name": "Honest"}, base=v, hlc=world.b.hlc(offset_ms=5000)
    )
    result = world.b.push(honest)["results"][0]
    assert result["status"] == "conflict"
    assert result["record"]["name"] == "Honest"
    assert result["conflicts"][0]["lost"] == "Ahead"


def test_rule3_only_a_block_president_approves_and_a_rejection_needs_a_reason(world):
    member_id, v = add_member(world.a, world.g.b1)
    result = world.a.send("member", member_id, {"status": "approved"}, base=v)
    assert result["status"] == "rejected"
    assert result["error"]["code"] == "not_allowed"
    assert result["record"]["status"] == "pending"
    result = world.p.send("member", member_id, {"status": "rejected"}, base=v)
    assert result["error"]["code"] == "reason_required"
    assert "status_reason" in result["error"]["fields"]
    result = world.p.send("member", member_id, {"status": "approved"}, base=v)
    assert result["status"] == "applied"
    assert result["record"]["status"] == "approved"
    assert result["record"]["reviewed_by"] == world.president.id


def test_rule3_an_approval_counts_only_for_what_the_approver_saw(world):
    member_id, v = add_member(world.a, world.g.b1)
    world.a.send("member", member_id, {"age": 30}, base=v)
    result = world.p.send("member", member_id, {"status": "approved"}, base=v)
    assert result["status"] == "conflict"
    assert result["error"]["code"] == "changed_since_review"
    assert result["record"]["status"] == "pending"
    assert result["record"]["age"] == 30
    world.p.pull()
    kinds = [c["kind"] for c in world.p.records("conflict").values()]
    assert kinds == ["changed_since_review"]


def test_rule4_changing_an_approved_member_puts_it_back_to_pending(world):
    member_id, v = add_member(world.a, world.g.b1)
    approved = world.p.send("member", member_id, {"status": "approved"}, base=v)
    result = world.a.send("member", member_id, {"phone": "9000011111"}, base=approved["version"])
    assert result["record"]["status"] == "pending"
    # Notes are the volunteer's remarks, not details under review.
    again = world.p.send("member", member_id, {"status": "approved"}, base=result["version"])
    notes = world.a.send("member", member_id, {"notes": "कॉलेज छात्र"}, base=again["version"])
    assert notes["record"]["status"] == "approved"


def test_rule5_the_21st_member_is_waitlisted_and_promoted_when_a_place_frees(world):
    ids = [add_member(world.a, world.g.b1, name=f"सदस्य {i}")[0] for i in range(20)]
    extra_id = new_id()
    result = world.a.send("member", extra_id, member_fields(world.g.b1, name="इक्कीसवाँ"))
    assert result["status"] == "applied"
    assert result["record"]["status"] == "waitlisted"
    gone = world.a.send("member", ids[0], op="delete", base=1)
    assert gone["record"]["deleted"] is True
    world.a.pull()
    assert world.a.records("member")[extra_id]["status"] == "pending"
    active = [
        r
        for r in world.a.records("member").values()
        if not r["deleted"] and r["status"] in ("pending", "approved")
    ]
    assert len(active) == 20


def test_rule6_an_epic_is_on_one_member_but_a_mobile_may_repeat(world, make):
    add_member(world.a, world.g.b1, epic="abc1234567", phone="9876500000")
    other = Phone(world.a.client, make, make.user("volunteer", world.g.b3))
    result = other.send("member", new_id(), member_fields(world.g.b3, epic="ABC1234567"))
    assert result["status"] == "rejected"
    assert result["error"]["code"] == "epic_taken"
    # Booth b1 is outside this volunteer's area: it is not named (test_visibility.py).
    assert world.g.b1.code not in result["error"]["message"]
    same_phone = other.send("member", new_id(), member_fields(world.g.b3, phone="9876500000"))
    assert same_phone["status"] == "applied"


def test_rule7_delete_wins_over_a_concurrent_edit_which_is_kept_to_restore(world):
    member_id, v = add_member(world.a, world.g.b1)
    world.b.send("member", member_id, {"name": "Edited offline"}, base=v)
    deleted = world.a.send("member", member_id, op="delete", base=v)
    assert deleted["status"] == "conflict"
    assert deleted["record"]["deleted"] is True
    assert deleted["conflicts"] == [{"field": "name", "kept": None, "lost": "Edited offline"}]
    # An edit that arrives after the delete, from a phone that did not see it, loses too.
    late = world.b.send("member", member_id, {"age": 33}, base=v)
    assert late["status"] == "conflict"
    world.b.pull()
    lost = sorted((c["kind"], tuple(c["lost"])) for c in world.b.records("conflict").values())
    assert lost == [("delete", ("age",)), ("delete", ("name",))]
    # Restoring: an upsert from a phone that has seen the delete brings it back.
    restored = world.b.send(
        "member", member_id, {"name": "Edited offline"}, base=deleted["version"]
    )
    assert restored["record"]["deleted"] is False
    assert restored["record"]["name"] == "Edited offline"


def grievance_fields(booth, **kw):
    return {"booth_id": booth.id, "category": "water", "description": "हैंडपंप खराब है", **kw}


def test_rule8_grievance_moves_only_along_its_life_cycle_by_allowed_roles(world):
    gid = new_id()
    typed_at = world.a.hlc()[:13]
    created = world.a.send(
        "grievance", gid, grievance_fields(world.g.b1, created_at=int(typed_at) - DAY)
    )
    record = created["record"]
    assert record["status"] == "new"
    assert record["ref_no"].startswith("RAN-")
    assert record["due_at"] == int(typed_at) - DAY + 21 * DAY
    v = created["version"]
    refused = world.a.send("grievance", gid, {"status": "acknowledged"}, base=v)
    assert refused["status"] == "rejected"
    assert refused["error"]["code"] == "transition_not_allowed"
    ack = world.p.send("grievance", gid, {"status": "acknowledged"}, base=v)
    assert ack["record"]["status"] == "acknowledged"
    locked = world.a.send("grievance", gid, {"description": "बदला"}, base=ack["version"])
    assert locked["error"]["code"] == "grievance_locked"
    assert "acknowledged" in locked["error"]["message"]
    skip = world.p.send("grievance", gid, {"status": "closed"}, base=ack["version"])
    assert skip["error"]["code"] == "transition_not_allowed"
    assert skip["record"]["status"] == "acknowledged"
    statuses = [h["status"] for h in ack["record"]["status_history"]]
    assert statuses == ["new", "acknowledged"]


def test_rule8_a_complaint_about_an_office_bearer_is_not_routed_to_the_block(world, make):
    gid = new_id()
    world.a.send(
        "grievance",
        gid,
        grievance_fields(world.g.b1, category="party_conduct", against="block president"),
    )
    refused = world.p.send("grievance", gid, {"status": "acknowledged"}, base=1)
    assert refused["status"] == "rejected"
    world.p.pull()
    assert gid not in world.p.records("grievance")
    centre = Phone(world.a.client, make, make.user("connect_centre"))
    assert centre.send("grievance", gid, {"status": "acknowledged"}, base=1)["status"] == "applied"


def test_rule9_notes_are_append_only_and_never_conflict(world):
    gid = new_id()
    world.a.send("grievance", gid, grievance_fields(world.g.b1))
    note_id = new_id()
    note = world.b.send("grievance_note", note_id, {"grievance_id": gid, "text": "मुखिया को बताया"})
    assert note["status"] == "applied"
    changed = world.a.send("grievance_note", note_id, {"text": "changed"}, base=1)
    assert changed["error"]["code"] == "append_only"
    other = world.p.send("grievance_note", new_id(), {"grievance_id": gid, "text": "देख रहे हैं"})
    assert other["status"] == "applied"


def test_rule9_two_rsvps_from_one_person_merge_into_one(world, make):
    meeting_id = new_id()
    created = world.p.send(
        "meeting",
        meeting_id,
        {
            "title": "प्रखंड बैठक",
            "starts_at": int(world.p.hlc()[:13]) + DAY,
            "unit_id": world.g.k1.id,
            "audience_roles": ["volunteer", "block_president"],
        },
    )
    assert created["status"] == "applied", created
    second_phone = Phone(world.a.client, make, world.volunteer)
    first = world.a.send("rsvp", new_id(), {"meeting_id": meeting_id, "answer": "yes"})
    second = second_phone.send("rsvp", new_id(), {"meeting_id": meeting_id, "answer": "maybe"})
    assert second["status"] == "merged"
    assert second["id"] == first["id"]
    assert second["record"]["answer"] == "maybe"


def test_rule10_a_volunteer_writes_and_reads_only_its_own_booth(world, make):
    outside = world.a.send("member", new_id(), member_fields(world.g.b3))
    assert outside["status"] == "rejected"
    assert outside["error"]["code"] == "out_of_scope"
    other = Phone(world.a.client, make, make.user("volunteer", world.g.b2))
    theirs, _ = add_member(other, world.g.b2)
    mine, _ = add_member(world.a, world.g.b1)
    world.a.pull()
    assert set(world.a.records("member")) == {mine}
    world.p.pull()
    assert set(world.p.records("member")) == {mine, theirs}


def test_rule10_a_rejection_never_carries_a_record_from_outside_the_scope(world, make):
    other = Phone(world.a.client, make, make.user("volunteer", world.g.b3))
    theirs, v = add_member(other, world.g.b3)
    refused = world.a.send("member", theirs, {"name": "झाँकना"}, base=v)
    assert refused["status"] == "rejected"
    # Answered as a record the server does not have: its existence is not told.
    assert refused["error"]["code"] == "not_found"
    assert refused["record"] is None


def test_withdrawn_consent_erases_personal_data_from_conflicts_too(world):
    member_id, v = add_member(world.a, world.g.b1, phone="9876512345", epic="QWE1234567")
    world.a.send(
        "member", member_id, {"phone": "9000012345"}, base=v, hlc=world.a.hlc(offset_ms=-1000)
    )
    lost = world.b.send(
        "member", member_id, {"phone": "9111112345"}, base=v, hlc=world.b.hlc(offset_ms=-5000)
    )
    assert lost["status"] == "conflict"
    erased = world.a.send("member", member_id, {"consent": False}, base=lost["version"])
    record = erased["record"]
    assert (record["deleted"], record["phone"], record["epic"], record["name"]) == (
        True,
        None,
        None,
        "",
    )
    world.p.pull()
    for conflict in world.p.records("conflict").values():
        assert "phone" not in conflict["lost"] and "phone" not in conflict["kept"]
        assert conflict["resolved"] is True


def test_an_edit_that_arrives_after_consent_was_withdrawn_is_refused(world):
    member_id, v = add_member(world.a, world.g.b1)
    world.a.send("member", member_id, {"consent": False}, base=v)
    late = world.b.send("member", member_id, {"phone": "9333312345"}, base=v)
    assert late["status"] == "rejected"
    assert late["error"]["code"] == "consent_withdrawn"
    assert late["record"]["phone"] is None
