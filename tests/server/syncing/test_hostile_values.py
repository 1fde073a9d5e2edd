"""Hostile values in a push: each bad mutation is `rejected` with its field named, the rest
of the batch goes on, and nothing of it reaches the database (PostgreSQL refuses NUL and
lone surrogates and out-of-range integers with errors that used to make the whole push a
500, which a phone takes for "offline" and retries for ever). Then the clock and base
checks: an HLC must be the pushing device's, a base_version never above the record's
version, and a clock from before the device was registered counts as its registration."""

import pytest
from sqlalchemy import select

from server.extensions import db
from server.grievances.models import Grievance
from server.records import now_ms
from server.roster.models import Member
from server.syncing.models import AppliedMutation, Conflict
from sync.hlc import format_hlc
from tests.server.syncing.phone import Phone, member_fields, new_id

DAY = 86_400_000
INT64_MAX = 2**63 - 1
INT32_MAX = 2**31 - 1
SOON = now_ms() + 7 * DAY


@pytest.fixture
def world(client, make):
    g = make.geo()
    w = type("World", (), {})()
    w.g = g
    w.volunteer = make.user("volunteer", g.b1)
    w.volunteer2 = make.user("volunteer", g.b1)
    w.president = make.user("block_president", g.k1)
    w.a = Phone(client, make, w.volunteer)
    w.b = Phone(client, make, w.volunteer2)
    w.p = Phone(client, make, w.president)
    return w


def grievance_fields(booth, **kw):
    return {"booth_id": booth.id, "category": "road", "description": "सड़क टूटी है", **kw}


def meeting_fields(unit, **kw):
    return {
        "title": "बूथ बैठक",
        "starts_at": SOON,
        "unit_id": unit.id,
        "audience_roles": ["volunteer"],
        **kw,
    }


# (entity, field, value): each in a mutation that is otherwise valid.
FIELD_CASES = [
    ("member", "name", "राम\x00कुमार"),
    ("member", "name", "राम\ud800"),
    ("member", "notes", "\udfff"),
    ("member", "status_reason", "a\x00"),
    ("member", "gender", "male\x00"),
    ("member", "phone", "98765\x0043210"),
    ("member", "epic", "ABC\x001234567"),
    ("member", "epic", "ABC1234567\ud800"),
    ("member", "skills", ["speaker\x00"]),
    ("member", "skills", ["\ud83d"]),
    ("member", "skills", [["speaker"]]),
    ("member", "skills", [{"a": "\x00"}]),
    ("member", "booth_id", 2**63),
    ("member", "booth_id", INT32_MAX + 1),
    ("member", "booth_id", -(2**63) - 1),
    ("member", "booth_id", 12.0),
    ("member", "age", 2**70),
    ("grievance", "description", "नल\x00"),
    ("grievance", "complainant_name", "\ud800\ud800"),
    ("grievance", "against", "BDO\x00"),
    ("grievance", "booth_id", 2**64),
    # Read by the prefetch (grievance serials) before any per-mutation check: a bool is
    # an int to Python and a 33-bit id overflows the column; neither may fail the push.
    ("grievance", "booth_id", True),
    ("grievance", "booth_id", False),
    ("grievance", "booth_id", INT32_MAX + 1),
    ("grievance", "booth_id", -(2**31) - 1),
    ("member", "booth_id", True),
    ("meeting", "unit_id", True),
    ("meeting", "unit_id", INT32_MAX + 1),
    ("grievance", "created_at", 2**63),
    ("grievance", "created_at", INT64_MAX + 1),
    ("grievance", "category", "road\x00"),
    ("meeting", "title", "\x00"),
    ("meeting", "place", "गाँव\ud800"),
    ("meeting", "online_url", "https://meet.example/\x00"),
    ("meeting", "unit_id", 2**40),
    ("meeting", "starts_at", 2**63),
    ("meeting", "audience_roles", ["volunteer\x00"]),
    ("meeting", "audience_roles", ["\ud800"]),
]


def valid_fields(world, entity):
    g = world.g
    return {
        "member": member_fields(g.b1),
        "grievance": grievance_fields(g.b1),
        "meeting": meeting_fields(g.k1),
    }[entity]


@pytest.mark.parametrize(("entity", "field", "value"), FIELD_CASES)
def test_a_hostile_field_value_is_rejected_with_the_field_named_and_the_batch_goes_on(
    world, entity, field, value
):
    phone = world.p  # the block president may write all three entities
    bad_id, good_id = new_id(), new_id()
    bad = phone.mutation(entity, bad_id, {**valid_fields(world, entity), field: value})
    good = phone.mutation("member", good_id, member_fields(world.g.b1, name="अगला"))
    answer = phone.push(bad, good)
    first, second = answer["results"]
    assert first["status"] == "rejected", first
    assert first["error"]["code"] == "validation_error"
    assert list(first["error"]["fields"]) == [field]
    assert second["status"] == "applied"
    assert answer["last_seq"] == 2
    model = {"member": Member, "grievance": Grievance}.get(entity)
    if model is not None:
        assert db.session.get(model, bad_id) is None
    assert db.session.get(Member, good_id).name == "अगला"
    # The rejection is remembered for a retry, with its reason, in storable text.
    assert db.session.get(AppliedMutation, (phone.device_id, 1)).status == "rejected"
    retry = phone.push(bad, good)
    assert [r["status"] for r in retry["results"]] == ["rejected", "duplicate"]


def test_hostile_values_in_notes_rsvps_and_conflicts_are_rejected_field_by_field(world):
    phone = world.a
    grievance_id, meeting_id = new_id(), new_id()
    assert phone.send("grievance", grievance_id, grievance_fields(world.g.b1))["status"] == (
        "applied"
    )
    meeting = world.p.send("meeting", meeting_id, meeting_fields(world.g.k1))
    assert meeting["status"] == "applied"
    cases = [
        ("grievance_note", {"grievance_id": grievance_id, "text": "a\x00"}, "text"),
        ("grievance_note", {"grievance_id": grievance_id + "\x00", "text": "a"}, "grievance_id"),
        ("grievance_note", {"grievance_id": "\ud800", "text": "a"}, "grievance_id"),
        # An id that does not exist is named too.
        ("grievance_note", {"grievance_id": new_id(), "text": "a"}, "grievance_id"),
        ("rsvp", {"meeting_id": meeting_id, "answer": "yes\x00"}, "answer"),
        ("rsvp", {"meeting_id": "\x00", "answer": "yes"}, "meeting_id"),
        ("rsvp", {"meeting_id": new_id(), "answer": "yes"}, "meeting_id"),
    ]
    batch = [phone.mutation(entity, new_id(), fields) for entity, fields, _ in cases]
    batch.append(phone.mutation("rsvp", new_id(), {"meeting_id": meeting_id, "answer": "yes"}))
    results = phone.push(*batch)["results"]
    for (_entity, _fields, field), result in zip(cases, results, strict=False):
        assert result["status"] == "rejected", result
        assert list(result["error"]["fields"]) == [field], result
    assert results[-1]["status"] == "applied"


# Envelope problems: (what to change in the mutation, the field named).
ENVELOPE_CASES = [
    ({"id": new_id() + "\x00"}, "id"),
    ({"id": "\ud800" * 36}, "id"),
    ({"id": new_id() + "\n"}, "id"),
    ({"entity": "member\x00"}, "entity"),
    ({"entity": "\udc00"}, "entity"),
    ({"entity": ["member"]}, "entity"),
    ({"op": "upsert\x00"}, "op"),
    ({"base_version": 2**63}, "base_version"),
    ({"base_version": INT32_MAX + 1}, "base_version"),
    ({"base_version": 1.5}, "base_version"),
    ({"base_version": True}, "base_version"),
    ({"hlc": "1732290000000-0000-abc\x00"}, "hlc"),
    ({"fields": {"name\x00": "x"}}, "fields"),
    ({"fields": {"\ud800": "x"}}, "fields"),
    ({"fields": "junk"}, "fields"),
]


@pytest.mark.parametrize(("change", "field"), ENVELOPE_CASES)
def test_a_hostile_envelope_is_rejected_with_the_field_named(world, change, field):
    phone = world.a
    bad = {**phone.mutation("member", new_id(), member_fields(world.g.b1)), **change}
    good = phone.mutation("member", new_id(), member_fields(world.g.b1, name="अगला"))
    first, second = phone.push(bad, good)["results"]
    assert first["status"] == "rejected", first
    assert field in first["error"]["fields"], first
    assert second["status"] == "applied"


def test_an_unknown_key_with_nul_is_named_in_printable_text(world):
    phone = world.a
    bad = {**phone.mutation("member", new_id(), member_fields(world.g.b1)), "x\x00\ud800": 1}
    first = phone.push(bad)["results"][0]
    assert first["status"] == "rejected"
    assert list(first["error"]["fields"]) == ["x\\x00\\ud800"]


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"seq": 2**63}, "mutations"),
        ({"seq": 1.0}, "mutations"),
        ({"client_time": 2**63}, "client_time"),
        ({"client_time": 1.5}, "client_time"),
        ({"schema_version": 2**40}, "schema_version"),
        ({"device_id": "DEVICE"}, "device_id"),
    ],
)
def test_a_hostile_push_envelope_is_a_422_not_a_500(world, change, where):
    phone = world.a
    m = phone.mutation("member", new_id(), member_fields(world.g.b1))
    if "seq" in change:
        m.update(change)
        response = phone.push_raw([m])
    elif "device_id" in change:
        response = phone.push_raw([m], device_id=phone.device_id + "\n")
    else:
        response = phone.push_raw([m], **change)
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == "validation_error"
    assert where in response.json["error"]["fields"]


# ---------------------------------------------------------------- clocks and bases (finding 5)


def test_an_hlc_naming_another_device_is_rejected_and_the_newer_edit_stays(world):
    member_id = new_id()
    created = world.a.send("member", member_id, member_fields(world.g.b1))
    v = created["version"]
    edit = world.b.send("member", member_id, {"name": "सही नाम"}, base=v)
    assert edit["status"] == "applied"
    # A's phone stamps its stale edit with B's device id (and a clock from the future),
    # claiming to be B's later write, so it would overwrite B's edit without a conflict.
    forged = format_hlc(now_ms() + 30_000, 0xFFFF, world.b.device_id)
    result = world.a.send("member", member_id, {"name": "गलत नाम"}, base=v, hlc=forged)
    assert result["status"] == "rejected"
    assert result["error"]["code"] == "hlc_device_mismatch"
    assert list(result["error"]["fields"]) == ["hlc"]
    db.session.expire_all()
    assert db.session.get(Member, member_id).name == "सही नाम"
    assert db.session.scalars(select(Conflict)).all() == []


def test_a_base_version_above_the_records_version_is_rejected(world):
    member_id = new_id()
    v = world.a.send("member", member_id, member_fields(world.g.b1))["version"]
    assert world.b.send("member", member_id, {"name": "सही नाम"}, base=v)["status"] == "applied"
    # Claiming to have seen version 99 would hide B's change and overwrite it silently.
    result = world.a.send("member", member_id, {"name": "गलत नाम"}, base=99)
    assert result["status"] == "rejected"
    assert result["error"]["code"] == "base_ahead"
    assert list(result["error"]["fields"]) == ["base_version"]
    assert result["version"] == v + 1
    db.session.expire_all()
    assert db.session.get(Member, member_id).name == "सही नाम"
    assert db.session.scalars(select(Conflict)).all() == []
    # A delete against a base from the future is refused the same way.
    gone = world.a.send("member", member_id, op="delete", base=v + 5)
    assert gone["error"]["code"] == "base_ahead"
    assert db.session.get(Member, member_id).deleted is False


def test_an_hlc_with_a_trailing_newline_is_not_an_hlc(world):
    hlc = world.a.hlc() + "\n"
    result = world.a.send("member", new_id(), member_fields(world.g.b1), hlc=hlc)
    assert result["status"] == "rejected"
    assert list(result["error"]["fields"]) == ["hlc"]


def test_a_clock_before_the_device_was_registered_counts_as_its_registration(client, make):
    g = make.geo()
    registered = now_ms() - 2 * DAY
    user = make.user("volunteer", g.b1)
    device = make.device(user, registered_at=registered)
    phone = Phone(client, make, user)
    phone.device_id, phone.headers = device.id, make.headers(user, device)
    ancient = format_hlc(1, 0, device.id)  # a phone whose clock says 1970
    member = phone.send("member", new_id(), member_fields(g.b1), hlc=ancient)
    assert member["status"] == "applied"
    assert member["record"]["consent_at"] == registered
    grievance = phone.send("grievance", new_id(), grievance_fields(g.b1), hlc=ancient)
    assert grievance["record"]["created_at"] == registered
    assert grievance["record"]["due_at"] == registered + 21 * DAY  # not overdue at birth
    # A created_at typed on the phone is held between registration and now too.
    old = phone.send("grievance", new_id(), grievance_fields(g.b1, created_at=1_600_000_000_000))
    assert old["record"]["created_at"] == registered
    ahead = phone.send("grievance", new_id(), grievance_fields(g.b1, created_at=SOON))
    assert registered < ahead["record"]["created_at"] <= now_ms()
    # The phone's clock is not above the server's: the answer's clock is not in 1970.
    listed = client.get("/api/grievances?overdue=true", headers=phone.headers)
    assert listed.status_code == 200
    assert listed.json["total"] == 0
