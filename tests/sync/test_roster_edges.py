"""The roster's rules (rules 3 to 7 of docs/protocol.md) at their edges, with whole
answers: each refusal's code, message and per-field messages, what a decision on changed
details keeps, what withdrawn consent erases, and what each write leaves in the audit
log (server/syncing/writing.py keeps the same entries). Decided by sync/ alone."""

import pytest

from sync.hlc import millis
from tests.sync.memory_phone import member_fields, new_id
from tests.sync.test_member_rules import add_member, fill, stored

NOT_REVIEWER = "Only a block president approves or rejects members."
NO_REASON = "Give a reason for the rejection."
SET_BY_PRESIDENT = "The roster status is set by the block president."
FULL = "This booth already has 20 members."


def refusal(result):
    assert result["status"] == "rejected", result
    return result["error"]


@pytest.mark.parametrize(
    ("who", "fields", "error"),
    [
        ("a", {"status": "approved"}, ("not_allowed", NOT_REVIEWER, "status")),
        (
            "a",
            {"status": "rejected", "status_reason": "x"},
            ("not_allowed", NOT_REVIEWER, "status"),
        ),
        ("p", {"status": "rejected"}, ("reason_required", NO_REASON, "status_reason")),
        ("a", {"status": "waitlisted"}, ("not_allowed", SET_BY_PRESIDENT, "status")),
    ],
)
def test_each_roster_refusal_says_what_and_where(world, who, fields, error):
    member_id, v = add_member(world.a, world.g.b1)
    got = refusal(getattr(world, who).send("member", member_id, fields, base=v))
    code, message, field = error
    assert got == {"code": code, "message": message, "fields": {field: [message]}}


@pytest.mark.parametrize(
    ("who", "extra", "error"),
    [
        ("a", {"status": "approved"}, ("not_allowed", NOT_REVIEWER, "status")),
        ("p", {"status": "rejected"}, ("reason_required", NO_REASON, "status_reason")),
        (
            "p",
            {"status": "rejected", "status_reason": " "},
            ("reason_required", NO_REASON, "status_reason"),
        ),
    ],
)
def test_a_decision_typed_with_the_addition_follows_the_review_rule(world, who, extra, error):
    result = getattr(world, who).send("member", new_id(), {**member_fields(world.g.b1), **extra})
    code, message, field = error
    assert refusal(result) == {"code": code, "message": message, "fields": {field: [message]}}
    assert world.server.db.records == {}


@pytest.mark.parametrize(
    ("who", "wanted", "status"),
    [
        ("a", "pending", "pending"),
        ("a", "waitlisted", "pending"),  # there is room: the booth takes them in
        ("p", "approved", "approved"),
        ("p", "rejected", "rejected"),
    ],
)
def test_a_status_typed_with_the_addition(world, who, wanted, status):
    fields = {**member_fields(world.g.b1), "status": wanted, "status_reason": "दोहराव"}
    result = getattr(world, who).send("member", new_id(), fields)
    assert (result["status"], result["record"]["status"]) == ("applied", status)


def test_a_rejection_typed_with_the_addition_to_a_full_booth_is_no_waitlisting(world):
    fill(world, world.g.b1, 20)
    fields = {**member_fields(world.g.b1), "status": "rejected", "status_reason": "दोहराव"}
    result = world.p.send("member", new_id(), fields)
    assert (result["status"], result["record"]["status"]) == ("applied", "rejected")
    assert result["record"]["waitlisted_at"] is None


def test_sending_the_status_a_member_already_has_is_no_status_change(world):
    member_id, v = add_member(world.a, world.g.b1)
    result = world.a.send("member", member_id, {"status": "pending", "notes": "ठीक"}, base=v)
    assert (result["status"], result["record"]["notes"]) == ("applied", "ठीक")


def test_a_member_needs_consent_and_says_so(world):
    result = world.a.send("member", new_id(), member_fields(world.g.b1, consent=False))
    assert refusal(result) == {
        "code": "consent_required",
        "message": "The member's consent is needed to add them.",
        "fields": {"consent": ["Ask for consent before adding a member."]},
    }


def test_approving_a_waitlisted_member_into_a_full_squad_says_it_is_full(world):
    fill(world, world.g.b1, 20)
    [extra] = fill(world, world.g.b1, 1)
    result = world.p.send("member", extra, {"status": "approved"}, base=1)
    assert refusal(result) == {"code": "squad_full", "message": FULL, "fields": {"status": [FULL]}}


def test_when_a_member_is_waitlisted_and_reviewed_is_the_time_it_was_typed(world):
    fill(world, world.g.b1, 20)
    typed = world.a.hlc(-60_000)
    waiting_id = new_id()
    waiting = world.a.send("member", waiting_id, member_fields(world.g.b1), hlc=typed)
    assert waiting["record"]["waitlisted_at"] == world.server.now() - 1  # its arrival
    assert waiting["record"]["consent_at"] == millis(typed)
    member_id, v = add_member(world.phone_of("volunteer", world.g.b2), world.g.b2)
    decided = world.p.hlc(-5000)
    approved = world.p.send("member", member_id, {"status": "approved"}, base=v, hlc=decided)
    assert (approved["record"]["reviewed_by"], approved["record"]["reviewed_at"]) == (
        world.president,
        millis(decided),
    )
    again = world.p.send("member", member_id, {"status": "rejected", "status_reason": "r"}, base=2)
    assert again["record"]["reviewed_at"] == millis(again_hlc(world, again))


def again_hlc(world, answer):
    return world.server.db.records[("member", answer["record"]["id"])].meta["status"][1]


def test_consent_given_in_the_future_counts_from_its_arrival(world):
    ahead = world.a.hlc(3_600_000)
    result = world.a.send("member", new_id(), member_fields(world.g.b1), hlc=ahead)
    assert result["record"]["consent_at"] == world.server.now() - 1


def test_a_member_moved_from_the_waitlist_to_a_booth_with_room_is_pending_there(world):
    fill(world, world.g.b1, 20)
    [waiting] = fill(world, world.g.b1, 1)
    moved_hlc = world.p.hlc()
    moved = world.p.send("member", waiting, {"booth_id": world.g.b2.id}, base=1, hlc=moved_hlc)
    assert (moved["record"]["status"], moved["record"]["booth_id"]) == ("pending", world.g.b2.id)
    fill(world, world.g.b3, 20, world.phone_of("volunteer", world.g.b3))
    president2 = world.phone_of("district_president", world.g.d1)
    again_at = president2.hlc()
    again = president2.send("member", waiting, {"booth_id": world.g.b3.id}, base=2, hlc=again_at)
    assert again["record"]["status"] == "waitlisted"
    assert again["record"]["waitlisted_at"] == millis(again_at)  # waits there from the move


def test_a_waitlisted_member_moved_to_another_full_booth_waits_from_the_move(world):
    fill(world, world.g.b1, 20)
    [waiting] = fill(world, world.g.b1, 1)
    first_wait = stored(world, waiting)["waitlisted_at"]
    fill(world, world.g.b2, 20, world.phone_of("volunteer", world.g.b2))
    at = world.p.hlc(-1000)
    moved = world.p.send("member", waiting, {"booth_id": world.g.b2.id}, base=1, hlc=at)
    assert (moved["status"], moved["record"]["status"]) == ("applied", "waitlisted")
    assert moved["record"]["waitlisted_at"] == millis(at) != first_wait
    stays = world.p.send("member", waiting, {"notes": "रुको"}, base=moved["version"])
    assert stays["record"]["waitlisted_at"] == millis(at)  # an edit is no new wait


@pytest.mark.parametrize(("full", "status"), [(False, "pending"), (True, "waitlisted")])
def test_a_reviewed_member_moved_goes_back_for_review_in_the_new_booth(world, full, status):
    """Rule 4: the booth is one of the details a decision was about."""
    fill(world, world.g.b2, 20 if full else 19, world.phone_of("volunteer", world.g.b2))
    member_id, v = add_member(world.a, world.g.b1)
    rejected = world.p.send(
        "member", member_id, {"status": "rejected", "status_reason": "r"}, base=v
    )
    at = world.p.hlc()
    moved = world.p.send(
        "member", member_id, {"booth_id": world.g.b2.id}, base=rejected["version"], hlc=at
    )
    assert (moved["status"], moved["record"]["status"]) == ("applied", status)
    assert moved["record"]["waitlisted_at"] == (millis(at) if full else None)


def test_a_decision_on_changed_details_is_kept_whole_and_the_rest_of_the_edit_applied(world):
    member_id, v = add_member(world.a, world.g.b1)
    world.a.send("member", member_id, {"age": 31, "notes": "पहले"}, base=v, hlc=world.a.hlc(-100))
    decided = world.p.hlc(-5000)  # the notes clash and lose: typed before the volunteer's
    fields = {
        "status": "rejected",
        "status_reason": "दोहराव",
        "notes": "बाद",
        "skills": ["writing"],
    }
    result = world.p.send("member", member_id, fields, base=v, hlc=decided)
    assert result["status"] == "conflict"
    assert result["error"] == {
        "code": "changed_since_review",
        "message": "The member's details changed after you reviewed them; review again.",
        "fields": {"status": ["Still pending: details changed since your review."]},
    }
    assert result["conflicts"] == [
        {"field": "notes", "kept": "पहले", "lost": "बाद"},
        {"field": "status", "kept": "pending", "lost": "rejected"},
    ]
    record = result["record"]
    assert (record["status"], record["status_reason"], record["skills"]) == (
        "pending",
        "",
        ["writing"],
    )
    world.p.pull()
    kept = sorted(
        (c["kind"], c["lost"], c["kept"], c["lost_hlc"], c["author_id"])
        for c in world.p.records("conflict").values()
    )
    assert kept == [
        ("changed_since_review", {"status": "rejected", "status_reason": "दोहराव"},
         {"status": "pending", "age": 31}, decided, world.president),
        ("field", {"notes": "बाद"}, {"notes": "पहले"}, decided, world.president),
    ]  # fmt: skip


def test_the_audit_log_names_each_kind_of_roster_write(world):
    squad = fill(world, world.g.b1, 20)
    [waiting] = fill(world, world.g.b1, 1)
    audit = world.server.db.audit
    assert audit[-1] == ("create", "member", waiting, 1, sorted([*member_fields(1), "status",
                         "waitlisted_at", "consent_at"]))  # fmt: skip
    world.a.send("member", squad[0], {"notes": "x"}, base=1)
    assert audit[-1] == ("update", "member", squad[0], 2, ["notes"])
    world.a.send("member", squad[0], op="delete", base=2)
    assert audit[-2:] == [
        ("delete", "member", squad[0], 3, ["deleted"]),
        ("promote", "member", waiting, 2, ["status"]),
    ]
    world.a.send("member", squad[0], {"name": "फिर"}, base=3)
    assert audit[-1] == ("restore", "member", squad[0], 4, ["deleted", "name", "status",
                         "waitlisted_at"])  # fmt: skip
    world.a.send("member", squad[1], {"consent": False}, base=1)
    assert audit[-2][:4] == ("erase", "member", squad[1], 2)
    assert audit[-1] == ("promote", "member", squad[0], 5, ["status"])
    world.b.send("member", squad[2], {"age": 34}, base=0, hlc=world.b.hlc(-(10**6)))
    assert audit[-1] == ("conflict", "member", squad[2], 1, ["age"])


@pytest.mark.parametrize(("fields", "op"), [(None, "delete"), ({"consent": False}, "upsert")])
def test_a_member_promoted_from_the_waitlist_is_stamped_by_who_freed_the_place(world, fields, op):
    squad = fill(world, world.g.b1, 20)
    [waiting] = fill(world, world.g.b1, 1)
    freed_at = world.b.hlc()
    world.b.send("member", squad[0], fields, base=1, op=op, hlc=freed_at)
    assert stored(world, waiting)["status"] == "pending"
    # The president approves what they saw (waitlisted, version 1): the promotion is newer.
    result = world.p.send("member", waiting, {"status": "approved"}, base=1)
    assert (result["status"], result["record"]["status"]) == ("conflict", "approved")
    assert result["conflicts"] == [{"field": "status", "kept": "approved", "lost": "pending"}]
    world.p.pull()
    [conflict] = world.p.records("conflict").values()
    assert (conflict["lost_hlc"], conflict["author_id"]) == (freed_at, world.volunteer2)


def test_a_delete_of_a_member_never_on_the_server_says_so(world):
    result = world.a.send("member", new_id(), op="delete", base=1)
    assert refusal(result) == {
        "code": "not_found",
        "message": "There is no such record on the server.",
        "fields": {},
    }


def test_deleting_a_waitlisted_member_frees_no_place(world):
    squad = fill(world, world.g.b1, 19)
    waiting = fill(world, world.g.b1, 1) + fill(world, world.g.b1, 2)
    world.server.db.records[("member", waiting[1])].values["status"] = "waitlisted"
    world.server.db.records[("member", waiting[2])].values["status"] = "waitlisted"
    world.a.send("member", waiting[1], op="delete", base=1)
    assert [stored(world, i)["status"] for i in waiting] == ["pending", "waitlisted", "waitlisted"]
    world.a.send("member", waiting[1], op="delete", base=2)  # again: still nothing freed
    assert stored(world, waiting[2])["status"] == "waitlisted"
    assert len(squad) == 19


def test_a_restored_member_whose_epic_was_taken_meanwhile_is_refused(world):
    member_id, v = add_member(world.a, world.g.b1, epic="ABC1234567")
    deleted = world.a.send("member", member_id, op="delete", base=v)
    add_member(world.b, world.g.b1, epic="ABC1234567")
    result = world.a.send("member", member_id, {"notes": "वापस"}, base=deleted["version"])
    assert refusal(result)["code"] == "epic_taken"
    assert refusal(result)["message"] == "This voter ID is already on the roster of booth AC-1-1."


@pytest.mark.parametrize("seen", [True, False])
def test_an_edit_of_a_deleted_member_restores_only_when_the_delete_was_seen(world, seen):
    member_id, v = add_member(world.a, world.g.b1)
    world.a.send("member", member_id, {"notes": "बीच"}, base=v)
    deleted = world.b.send("member", member_id, op="delete", base=v + 1)
    base = deleted["version"] if seen else deleted["version"] - 1
    result = world.a.send("member", member_id, {"age": 33}, base=base)
    assert result["record"]["deleted"] is not seen
    assert result["status"] == ("applied" if seen else "conflict")
    assert result["record"]["age"] == (33 if seen else 24)
    if not seen:  # nothing to lose: no conflict record
        nothing = world.a.send("member", member_id, {}, base=1)
        assert (nothing["status"], nothing["conflicts"]) == ("applied", [])


@pytest.mark.parametrize("had_phone", [True, False])
def test_withdrawn_consent_erases_what_names_the_person_and_keeps_the_rest(world, had_phone):
    extra = {} if had_phone else {"phone": None}
    member_id, v = add_member(world.a, world.g.b1, notes="छात्र", epic="XYZ1234567", **extra)
    world.a.send("member", member_id, {"name": "नया", "notes": "नई"}, base=v, hlc=world.a.hlc())
    lost = world.b.send(
        "member", member_id, {"name": "पुराना", "notes": "पुरानी"}, base=v, hlc=world.b.hlc(-9000)
    )
    assert lost["status"] == "conflict"
    fields = {"consent": False, "phone": "9000000009", "name": "x", "notes": "y", "age": 34}
    erased = world.b.send("member", member_id, fields, base=lost["version"])
    assert (erased["status"], erased["conflicts"]) == ("applied", [])
    record = erased["record"]
    assert (record["name"], record["notes"], record["phone"], record["epic"]) == (
        "",
        "",
        None,
        None,
    )
    assert (record["age"], record["consent"], record["deleted"]) == (34, False, True)
    world.p.pull()
    [conflict] = world.p.records("conflict").values()
    assert (conflict["lost"], conflict["kept"], conflict["resolved"]) == ({}, {}, True)


def test_withdrawn_consent_with_a_clashing_edit_keeps_the_loser(world):
    member_id, v = add_member(world.a, world.g.b1)
    world.a.send("member", member_id, {"age": 30}, base=v)
    erased = world.b.send("member", member_id, {"consent": False, "age": 35}, base=v,
                          hlc=world.b.hlc(-9000))  # fmt: skip
    assert (erased["status"], erased["conflicts"]) == (
        "conflict",
        [{"field": "age", "kept": 30, "lost": 35}],
    )
    world.p.pull()
    [conflict] = world.p.records("conflict").values()
    assert (conflict["kind"], conflict["author_id"]) == ("field", world.volunteer2)


def test_a_member_resent_with_their_own_epic_keeps_it(world):
    member_id, v = add_member(world.a, world.g.b1, epic="ABC1234567")
    result = world.a.send("member", member_id, {"epic": "ABC 1234567", "notes": "वही"}, base=v)
    assert (result["status"], result["record"]["epic"]) == ("applied", "ABC1234567")


def test_a_decision_on_a_member_never_seen_is_on_changed_details(world):
    """No base: the reviewer saw none of the details, so none of them were reviewed."""
    member_id, _v = add_member(world.a, world.g.b1)
    result = world.p.send("member", member_id, {"status": "approved"}, base=None)
    assert (result["status"], result["error"]["code"]) == ("conflict", "changed_since_review")
    assert result["record"]["status"] == "pending"


@pytest.mark.parametrize("decision", ["approved", "rejected"])
def test_rule4_a_reviewed_members_changed_details_go_back_for_review(world, decision):
    member_id, v = add_member(world.a, world.g.b1)
    fields = {"status": decision, "status_reason": "दोहराव"}
    reviewed = world.p.send("member", member_id, fields, base=v)
    assert reviewed["record"]["status"] == decision
    edited = world.a.send("member", member_id, {"name": "सुधरा"}, base=reviewed["version"])
    assert (edited["status"], edited["record"]["status"]) == ("applied", "pending")


@pytest.mark.parametrize(("who", "allowed"), [("p", True), ("a", False)])
def test_only_a_reviewer_sends_a_rejected_member_back_to_pending(world, who, allowed):
    member_id, v = add_member(world.a, world.g.b1)
    rejected = world.p.send(
        "member", member_id, {"status": "rejected", "status_reason": "r"}, base=v
    )
    result = getattr(world, who).send(
        "member", member_id, {"status": "pending"}, base=rejected["version"]
    )
    if allowed:
        assert (result["status"], result["record"]["status"]) == ("applied", "pending")
        return
    assert refusal(result) == {
        "code": "not_allowed",
        "message": SET_BY_PRESIDENT,
        "fields": {"status": [SET_BY_PRESIDENT]},
    }


def test_an_epic_held_outside_the_callers_area_is_in_another_booth(world):
    add_member(world.a, world.g.b1, epic="ABC1234567")
    stranger = world.phone_of("volunteer", world.g.b2)
    result = stranger.send("member", new_id(), member_fields(world.g.b2, epic="ABC1234567"))
    message = "This voter ID is already on the roster of another booth."
    assert refusal(result) == {
        "code": "epic_taken",
        "message": message,
        "fields": {"epic": [message]},
    }


def test_an_approval_kept_as_squad_full_names_when_it_was_typed(world):
    fill(world, world.g.b1, 20)
    at = world.p.hlc(-2000)
    world.p.send("member", new_id(), {**member_fields(world.g.b1), "status": "approved"}, hlc=at)
    world.p.pull()
    [conflict] = world.p.records("conflict").values()
    assert (conflict["kind"], conflict["lost_hlc"], conflict["author_id"]) == (
        "squad_full",
        at,
        world.president,
    )


def test_a_member_restored_into_a_full_booth_waits_from_the_restore(world):
    member_id, v = add_member(world.a, world.g.b1)
    deleted = world.a.send("member", member_id, op="delete", base=v)
    fill(world, world.g.b1, 20)
    restored = world.a.send("member", member_id, {"notes": "वापस"}, base=deleted["version"])
    assert (restored["record"]["deleted"], restored["record"]["status"]) == (False, "waitlisted")
    assert restored["record"]["waitlisted_at"] == world.server.now() - 1


def test_a_booth_records_conflict_names_its_booth_and_no_unit(world):
    member_id, v = add_member(world.a, world.g.b1)
    world.a.send("member", member_id, {"age": 30}, base=v)
    world.b.send("member", member_id, {"age": 31}, base=v, hlc=world.b.hlc(-9000))
    world.p.pull()
    [conflict] = world.p.records("conflict").values()
    assert (conflict["booth_id"], conflict["unit_id"]) == (world.g.b1.id, None)
    assert conflict["resolved"] is False  # open until its author or the president settles it
