"""Rules 1 to 7 and 10 of docs/protocol.md for roster members, decided by sync/ alone (an
in-memory store; tests/server/syncing/test_rules.py runs the same through HTTP)."""

import pytest

from tests.sync.memory_phone import member_fields, new_id

DAY = 86_400_000


def add_member(device, booth, **kw):
    member_id = new_id()
    result = device.send("member", member_id, member_fields(booth, **kw))
    assert result["status"] in ("applied", "merged"), result
    return member_id, result["version"]


def stored(world, member_id):
    return world.server.db.records[("member", member_id)].values


def test_rule1_fields_changed_on_one_side_each_are_all_kept(world):
    member_id, v = add_member(world.a, world.g.b1)
    first = world.a.send("member", member_id, {"phone": "9123456780"}, base=v)
    second = world.b.send("member", member_id, {"name": "राम प्रसाद"}, base=v)
    assert (first["status"], second["status"]) == ("applied", "merged")
    assert (second["record"]["phone"], second["record"]["name"]) == ("9123456780", "राम प्रसाद")
    assert second["conflicts"] == []


def test_rule2_same_field_later_hlc_wins_and_loser_is_kept_as_conflict(world):
    member_id, v = add_member(world.a, world.g.b1)
    later = world.a.mutation("member", member_id, {"name": "Later"}, base=v, hlc=world.a.hlc(-1000))
    earlier = world.b.mutation(
        "member", member_id, {"name": "Earlier"}, base=v, hlc=world.b.hlc(-5000)
    )
    assert world.a.push(later)["results"][0]["status"] == "applied"
    result = world.b.push(earlier)["results"][0]
    assert result["status"] == "conflict"
    assert result["conflicts"] == [{"field": "name", "kept": "Later", "lost": "Earlier"}]
    assert result["record"]["name"] == "Later"
    for phone in (world.b, world.p):
        phone.pull()
        conflicts = list(phone.records("conflict").values())
        assert [(c["lost"], c["author_id"]) for c in conflicts] == [
            ({"name": "Earlier"}, world.volunteer2)
        ]


def test_rule2_an_hlc_from_the_future_counts_as_its_arrival(world):
    member_id, v = add_member(world.a, world.g.b1)
    world.a.push(
        world.a.mutation("member", member_id, {"name": "Ahead"}, base=v, hlc=world.a.hlc(2 * DAY))
    )
    honest = world.b.mutation(
        "member", member_id, {"name": "Honest"}, base=v, hlc=world.b.hlc(5000)
    )
    result = world.b.push(honest)["results"][0]
    assert result["status"] == "conflict"
    assert (result["record"]["name"], result["conflicts"][0]["lost"]) == ("Honest", "Ahead")


def test_rule2_an_hlc_from_before_registration_counts_from_registration(world):
    """A phone whose clock says 1970 typed its edit after it was registered: it beats an
    edit typed offline before then (on a phone registered long ago) that arrives later."""
    member_id, v = add_member(world.a, world.g.b1)
    world.server.db.devices[world.b.device_id]["registered_at"] = world.server.now() - 200 * DAY
    offline = world.b.mutation(
        "member", member_id, {"name": "Offline"}, base=v, hlc=world.b.hlc(-100 * DAY)
    )
    stopped = type(world.a)(world.server, world.volunteer, clock_offset_ms=-world.server.now())
    assert stopped.send("member", member_id, {"name": "Today"}, base=v)["status"] == "applied"
    result = world.b.push(offline)["results"][0]
    assert result["status"] == "conflict"
    assert (result["record"]["name"], result["conflicts"][0]["lost"]) == ("Today", "Offline")


def test_a_phones_own_later_write_wins_whatever_its_clock_says(world):
    member_id, v = add_member(world.a, world.g.b1)
    first = world.a.mutation("member", member_id, {"name": "First"}, base=v, hlc=world.a.hlc(5000))
    second = world.a.mutation("member", member_id, {"name": "Second"}, base=v, hlc=world.a.hlc())
    results = world.a.push(first, second)["results"]
    assert [(r["status"], r["conflicts"]) for r in results] == [("applied", []), ("merged", [])]
    assert stored(world, member_id)["name"] == "Second"


# ---------------------------------------------------------------- rule 3: review


@pytest.mark.parametrize(
    ("who", "fields", "code"),
    [
        ("a", {"status": "approved"}, "not_allowed"),
        ("a", {"status": "rejected", "status_reason": "duplicate"}, "not_allowed"),
        ("p", {"status": "rejected"}, "reason_required"),
        ("p", {"status": "rejected", "status_reason": "  "}, "reason_required"),
        ("a", {"status": "waitlisted"}, "not_allowed"),
        ("p", {"status": "approved"}, None),
        ("p", {"status": "rejected", "status_reason": "अन्य प्रखंड"}, None),
    ],
)
def test_rule3_who_reviews_and_what_a_rejection_needs(world, who, fields, code):
    member_id, v = add_member(world.a, world.g.b1)
    result = getattr(world, who).send("member", member_id, fields, base=v)
    if code:
        assert (result["status"], result["error"]["code"]) == ("rejected", code)
        assert result["record"]["status"] == "pending"
        return
    assert result["status"] == "applied"
    assert result["record"]["status"] == fields["status"]
    assert result["record"]["reviewed_by"] == world.president


# What the volunteer changed before the president's review: a detail voids the decision.
STALE = [
    ("name", "नया नाम", True),
    ("age", 30, True),
    ("gender", "female", True),
    ("phone", "9000000001", True),
    ("epic", "ABC7654321", True),
    ("skills", ["writing"], True),
    ("notes", "कॉलेज छात्र", False),
]


@pytest.mark.parametrize("decision", ["approved", "rejected"])
@pytest.mark.parametrize(("field", "value", "voids"), STALE)
def test_rule3_a_decision_counts_only_for_what_the_reviewer_saw(
    world, field, value, voids, decision
):
    member_id, v = add_member(world.a, world.g.b1)
    assert world.a.send("member", member_id, {field: value}, base=v)["status"] == "applied"
    fields = {"status": decision, "status_reason": "दोहराव" if decision == "rejected" else ""}
    result = world.p.send("member", member_id, fields, base=v)
    if not voids:
        assert result["status"] == "merged", result
        assert result["record"]["status"] == decision
        return
    assert (result["status"], result["error"]["code"]) == ("conflict", "changed_since_review")
    assert result["record"]["status"] == "pending"
    assert result["record"][field] == value
    world.p.pull()
    [conflict] = world.p.records("conflict").values()
    assert conflict["kind"] == "changed_since_review"
    assert conflict["lost"]["status"] == decision and conflict["kept"][field] == value


@pytest.mark.parametrize(("field", "value", "back_to_pending"), STALE)
def test_rule4_changing_an_approved_member_puts_it_back_to_pending(
    world, field, value, back_to_pending
):
    member_id, v = add_member(world.a, world.g.b1)
    approved = world.p.send("member", member_id, {"status": "approved"}, base=v)
    result = world.a.send("member", member_id, {field: value}, base=approved["version"])
    assert result["status"] == "applied"
    assert result["record"]["status"] == ("pending" if back_to_pending else "approved")


# ---------------------------------------------------------------- rule 5: 20 and a waitlist


def fill(world, booth, count, phone=None):
    phone = phone or world.a
    ids = [new_id() for _ in range(count)]
    mutations = [
        phone.mutation("member", i, member_fields(booth, name=f"सदस्य {n}"))
        for n, i in enumerate(ids)
    ]
    if mutations:
        assert {r["status"] for r in phone.push(*mutations)["results"]} == {"applied"}
    return ids


def statuses(world, ids):
    return [stored(world, i)["status"] for i in ids]


def active_in(world, booth):
    return sum(
        1
        for (entity, _id), r in world.server.db.records.items()
        if entity == "member"
        and not r.deleted
        and r.values["booth_id"] == booth.id
        and r.values["status"] in ("pending", "approved")
    )


@pytest.mark.parametrize(
    ("already", "status"), [(0, "pending"), (19, "pending"), (20, "waitlisted")]
)
def test_rule5_a_new_member_is_pending_while_there_is_room(world, already, status):
    fill(world, world.g.b1, already)
    [member_id] = fill(world, world.g.b1, 1, world.b)
    assert stored(world, member_id)["status"] == status


# How an active member leaves the squad (who does it, and what they send).
DEPARTURES = {
    "deleted": ("a", None, "delete"),
    "rejected": ("p", {"status": "rejected", "status_reason": "दोहराव"}, "upsert"),
    "consent withdrawn": ("a", {"consent": False}, "upsert"),
    "moved to another booth": ("p", {"booth_id": None}, "upsert"),
}


@pytest.mark.parametrize("departure", DEPARTURES)
def test_rule5_the_earliest_waitlisted_is_promoted_when_a_place_frees(world, departure):
    squad = fill(world, world.g.b1, 20)
    waiting = fill(world, world.g.b1, 1) + fill(world, world.g.b1, 1)  # one after the other
    assert statuses(world, waiting) == ["waitlisted", "waitlisted"]
    who, fields, op = DEPARTURES[departure]
    if fields and "booth_id" in fields:
        fields = {"booth_id": world.g.b2.id}
    result = getattr(world, who).send("member", squad[0], fields, base=1, op=op)
    assert result["status"] == "applied", result
    assert statuses(world, waiting) == ["pending", "waitlisted"]
    assert active_in(world, world.g.b1) == 20


def test_rule5_a_waitlisted_member_is_not_approved_into_a_full_squad(world):
    fill(world, world.g.b1, 20)
    [extra] = fill(world, world.g.b1, 1)
    result = world.p.send("member", extra, {"status": "approved"}, base=1)
    assert (result["status"], result["error"]["code"]) == ("rejected", "squad_full")
    moved = world.p.send("member", extra, {"booth_id": world.g.b2.id}, base=1)
    assert moved["record"]["status"] == "pending"  # a booth with room takes them in


def test_rule5_a_member_moved_into_a_full_booth_is_waitlisted(world):
    fill(world, world.g.b2, 20, world.phone_of("volunteer", world.g.b2))
    member_id, v = add_member(world.a, world.g.b1)
    moved = world.p.send("member", member_id, {"booth_id": world.g.b2.id}, base=v)
    assert moved["record"]["status"] == "waitlisted"
    assert active_in(world, world.g.b2) == 20


def squad_full_conflicts(world, phone):
    phone.pull()
    return [
        (c["kind"], c["lost"], c["kept"], c["author_id"])
        for c in phone.records("conflict").values()
    ]


def test_rule5_an_approval_typed_with_the_addition_to_a_full_booth_is_kept(world):
    """Convergence seeds 5269 and 8647: the approval went silently; now the member waits
    and the approval is a conflict record the reviewer sees and can apply later."""
    fill(world, world.g.b1, 20)
    member_id = new_id()
    fields = {**member_fields(world.g.b1), "status": "approved"}
    result = world.p.send("member", member_id, fields)
    assert result["status"] == "conflict", result
    assert result["record"]["status"] == "waitlisted"
    assert result["conflicts"] == [{"field": "status", "kept": "waitlisted", "lost": "approved"}]
    lost = ("squad_full", {"status": "approved"}, {"status": "waitlisted"}, world.president)
    assert squad_full_conflicts(world, world.p) == [lost]


def test_rule5_an_approval_typed_with_a_move_into_a_full_booth_is_kept(world):
    fill(world, world.g.b2, 20, world.phone_of("volunteer", world.g.b2))
    member_id, v = add_member(world.a, world.g.b1)
    fields = {"booth_id": world.g.b2.id, "status": "approved"}
    moved = world.p.send("member", member_id, fields, base=v)
    assert (moved["status"], moved["record"]["status"]) == ("conflict", "waitlisted")
    assert moved["conflicts"] == [{"field": "status", "kept": "waitlisted", "lost": "approved"}]
    assert [c[0] for c in squad_full_conflicts(world, world.p)] == ["squad_full"]
    assert active_in(world, world.g.b2) == 20


# ---------------------------------------------------------------- rule 6: one member per EPIC

EPIC = "ABC1234567"


@pytest.mark.parametrize(
    ("role", "unit", "booth", "named"),
    [
        ("volunteer", "b1", "b1", True),
        ("volunteer", "b3", "b3", False),
        ("block_president", "k1", "b2", True),
        ("block_president", "k2", "b3", False),
        ("district_president", "d1", "b3", True),
        ("district_president", "d2", "b4", False),
        ("connect_centre", None, "b4", True),
    ],
)
def test_rule6_an_epic_is_on_one_member_named_only_inside_the_callers_scope(
    world, role, unit, booth, named
):
    add_member(world.a, world.g.b1, epic=EPIC)
    phone = world.phone_of(role, getattr(world.g, unit) if unit else None)
    booth = getattr(world.g, booth)
    result = phone.send("member", new_id(), member_fields(booth, epic=" abc 1234567"))
    assert (result["status"], result["error"]["code"]) == ("rejected", "epic_taken")
    assert (world.g.b1.code in result["error"]["message"]) is named
    assert result["error"]["fields"] == {"epic": [result["error"]["message"]]}


def test_rule6_a_mobile_may_repeat_and_a_freed_epic_is_taken_again(world):
    member_id, v = add_member(world.a, world.g.b1, epic=EPIC, phone="9876500000")
    add_member(world.b, world.g.b1, phone="9876500000")
    assert world.a.send("member", member_id, {"name": "वही"}, base=v)["status"] == "applied"
    assert world.a.send("member", member_id, op="delete", base=v + 1)["status"] == "applied"
    add_member(world.b, world.g.b1, epic=EPIC)


# ---------------------------------------------------------------- rule 7: delete wins


def test_rule7_delete_wins_over_a_concurrent_edit_which_is_kept_to_restore(world):
    member_id, v = add_member(world.a, world.g.b1)
    world.b.send("member", member_id, {"name": "Edited offline"}, base=v)
    deleted = world.a.send("member", member_id, op="delete", base=v)
    assert (deleted["status"], deleted["record"]["deleted"]) == ("conflict", True)
    assert deleted["conflicts"] == [{"field": "name", "kept": None, "lost": "Edited offline"}]
    late = world.b.send("member", member_id, {"age": 33}, base=v)
    assert late["status"] == "conflict"
    world.b.pull()
    lost = sorted((c["kind"], tuple(c["lost"])) for c in world.b.records("conflict").values())
    assert lost == [("delete", ("age",)), ("delete", ("name",))]
    restored = world.b.send(
        "member", member_id, {"name": "Edited offline"}, base=deleted["version"]
    )
    assert (restored["record"]["deleted"], restored["record"]["name"]) == (False, "Edited offline")


@pytest.mark.parametrize(
    ("base", "status"),
    [("none", "applied"), ("seen", "applied"), ("stale", "conflict")],
)
def test_rule7_a_delete_conflicts_only_with_edits_it_did_not_see(world, base, status):
    member_id, v = add_member(world.a, world.g.b1)
    edited = world.b.send("member", member_id, {"notes": "बदला"}, base=v)
    base_version = {"none": None, "seen": edited["version"], "stale": v}[base]
    result = world.a.send("member", member_id, op="delete", base=base_version)
    assert (result["status"], result["record"]["deleted"]) == (status, True)
    again = world.a.send("member", member_id, op="delete", base=result["version"])
    assert again["status"] == "applied"


def test_rule7_a_deleted_record_that_was_never_there_is_not_found(world):
    result = world.a.send("member", new_id(), op="delete", base=1)
    assert (result["status"], result["error"]["code"]) == ("rejected", "not_found")


# ---------------------------------------------------------------- rule 10 and consent


def test_rule10_a_volunteer_writes_and_reads_only_its_own_booth(world):
    outside = world.a.send("member", new_id(), member_fields(world.g.b3))
    assert (outside["status"], outside["error"]["code"]) == ("rejected", "out_of_scope")
    theirs, v = add_member(world.phone_of("volunteer", world.g.b2), world.g.b2)
    mine, _ = add_member(world.a, world.g.b1)
    world.a.pull()
    assert set(world.a.records("member")) == {mine}
    world.p.pull()
    assert set(world.p.records("member")) == {mine, theirs}
    peek = world.a.send("member", theirs, {"name": "झाँकना"}, base=v)
    assert (peek["error"]["code"], peek["record"]) == ("not_found", None)


def test_a_base_version_the_server_never_gave_is_refused(world):
    member_id, v = add_member(world.a, world.g.b1)
    result = world.a.send("member", member_id, {"name": "आगे"}, base=v + 5)
    assert (result["status"], result["error"]["code"]) == ("rejected", "base_ahead")


def test_withdrawn_consent_erases_personal_data_from_conflicts_too(world):
    member_id, v = add_member(world.a, world.g.b1, phone="9876512345", epic="QWE1234567")
    world.a.send("member", member_id, {"phone": "9000012345"}, base=v, hlc=world.a.hlc(-1000))
    lost = world.b.send(
        "member", member_id, {"phone": "9111112345"}, base=v, hlc=world.b.hlc(-5000)
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
    late = world.b.send("member", member_id, {"phone": "9333312345"}, base=v)
    assert (late["status"], late["error"]["code"]) == ("rejected", "consent_withdrawn")
    assert late["record"]["phone"] is None


def test_a_member_needs_consent(world):
    fields = member_fields(world.g.b1, consent=False)
    result = world.a.send("member", new_id(), fields)
    assert (result["status"], result["error"]["code"]) == ("rejected", "consent_required")
    assert world.server.db.records == {}
