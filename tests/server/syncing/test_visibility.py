"""One masking rule and one visibility rule on every path a record leaves the server by.

Mobile numbers and EPICs go out in full only to the booth's volunteer and its block
president; everyone else in scope gets them masked, whether the record comes in a pull, a
push answer (its `record` or its `conflicts`), a conflict record, a replay, a rejection or
the online API. Notes and conflict records are exactly as visible as their record, in its
current state.
"""

import json
import logging
import types

import pytest

from server.scope import mask_epic, mask_phone
from tests.server.syncing.migrations import load_migration
from tests.server.syncing.phone import Phone, member_fields, new_id

PHONE, EPIC = "9876543210", "ABC1234567"
# What each viewer gets of a member of booth b1: in full, masked, or nothing at all.
SEES = {
    "volunteer": "full",  # of booth b1
    "other_volunteer": "hidden",  # of booth b2, same block
    "block_president": "full",
    "district_president": "masked",
    "connect_centre": "masked",
    "admin": "masked",
}
VIEWERS = tuple(SEES)
# Viewers who may write to booth b1 (the other booth's volunteer may not).
WRITERS = tuple(v for v in VIEWERS if SEES[v] != "hidden")


@pytest.fixture
def world(client, make):
    return build_world(client, make)


def build_world(client, make):
    """Booth b1's member (with a mobile number and an EPIC) and a phone for each viewer."""
    g = make.geo()
    w = types.SimpleNamespace(g=g, client=client, make=make)
    w.users = {
        "volunteer": make.user("volunteer", g.b1),
        "other_volunteer": make.user("volunteer", g.b2),
        "block_president": make.user("block_president", g.k1),
        "district_president": make.user("district_president", g.d1),
        "connect_centre": make.user("connect_centre"),
        "admin": make.user("admin"),
    }
    w.phones = {role: Phone(client, make, user) for role, user in w.users.items()}
    # The member's author: another phone of the booth's volunteer.
    w.author = Phone(client, make, w.users["volunteer"])
    w.member_id = new_id()
    created = w.author.send(
        "member", w.member_id, member_fields(g.b1, phone=PHONE, epic=EPIC, name="गीता देवी")
    )
    assert created["status"] == "applied", created
    return w


def body_of(answer) -> str:
    return json.dumps(answer, ensure_ascii=False)


def assert_shown(viewer, text, *values):
    """`values` appear in full in the answer `text` exactly when the viewer sees them."""
    for value in values:
        if SEES[viewer] == "full":
            assert value in text, f"{viewer} should see {value} in full"
        else:
            assert value not in text, f"{viewer} got {value} in full: {text}"


def expected(viewer, field, value):
    if value is None or SEES[viewer] == "full":
        return value
    return {"phone": mask_phone, "epic": mask_epic, "complainant_phone": mask_phone}[field](value)


def own_values(n):
    """A distinct mobile and EPIC for each writer, so a leak names its source."""
    return f"98700000{n:02d}", f"XYZ00000{n:02d}"


# ---------------------------------------------------------------- push answers


@pytest.mark.parametrize("viewer", VIEWERS)
def test_push_answer_conflicts_and_record_are_masked_for_the_viewer(world, viewer):
    """An edit with base_version 0 and an old clock loses to the stored values: the answer's
    `conflicts` name kept and lost values, masked exactly as a pull would mask them."""
    phone = world.phones[viewer]
    mine_phone, mine_epic = own_values(VIEWERS.index(viewer))
    result = phone.send(
        "member",
        world.member_id,
        {"phone": mine_phone, "epic": mine_epic},
        base=0,
        hlc=phone.hlc(offset_ms=-3_600_000),
    )
    text = body_of(result)
    if SEES[viewer] == "hidden":
        assert result["status"] == "rejected"
        assert (result["record"], result["conflicts"]) == (None, [])
        assert PHONE not in text and EPIC not in text
        return
    assert result["status"] == "conflict", result
    by_field = {c["field"]: c for c in result["conflicts"]}
    assert by_field["phone"]["kept"] == expected(viewer, "phone", PHONE)
    assert by_field["phone"]["lost"] == expected(viewer, "phone", mine_phone)
    assert by_field["epic"]["kept"] == expected(viewer, "epic", EPIC)
    assert by_field["epic"]["lost"] == expected(viewer, "epic", mine_epic)
    assert result["record"]["phone"] == expected(viewer, "phone", PHONE)
    assert_shown(viewer, text, PHONE, EPIC, mine_phone, mine_epic)


@pytest.mark.parametrize("viewer", WRITERS)
def test_a_delete_answer_carries_the_lost_edit_masked(world, viewer):
    """Rule 7: a delete against a concurrent edit answers the lost edit in `conflicts`."""
    edited = world.author.send("member", world.member_id, {"phone": "9123412345"}, base=1)
    assert edited["status"] == "applied"
    result = world.phones[viewer].send("member", world.member_id, op="delete", base=1)
    assert result["status"] == "conflict", result
    assert result["conflicts"] == [
        {"field": "phone", "kept": None, "lost": expected(viewer, "phone", "9123412345")}
    ]
    assert_shown(viewer, body_of(result), "9123412345")


@pytest.mark.parametrize("viewer", VIEWERS)
def test_rejected_and_duplicate_answers_carry_the_record_masked(world, viewer):
    phone = world.phones[viewer]
    bad = phone.mutation("member", world.member_id, {"age": 99}, base=1)
    first = phone.push(bad)["results"][0]
    assert first["status"] == "rejected"
    good = phone.mutation("member", world.member_id, {"notes": "मिलने आए"}, base=1)
    answered = phone.push(good)["results"][0]
    replayed = phone.push(bad, good)["results"]  # a retry of both seqs
    again = "rejected" if SEES[viewer] == "hidden" else "duplicate"
    assert [r["status"] for r in replayed] == ["rejected", again]
    for result in (first, answered, *replayed):
        text = body_of(result)
        if SEES[viewer] == "hidden":
            assert result["record"] is None
            assert PHONE not in text and EPIC not in text
        else:
            assert result["record"]["phone"] == expected(viewer, "phone", PHONE)
            assert result["record"]["epic"] == expected(viewer, "epic", EPIC)
            assert_shown(viewer, text, PHONE, EPIC)


# ---------------------------------------------------------------- pull and REST


def make_conflicts(world):
    """Conflict records about the member, with full values on both sides."""
    for n, writer in enumerate(WRITERS):
        phone = world.phones[writer]
        mine_phone, mine_epic = own_values(40 + n)
        result = phone.send(
            "member",
            world.member_id,
            {"phone": mine_phone, "epic": mine_epic},
            base=0,
            hlc=phone.hlc(offset_ms=-3_600_000),
        )
        assert result["status"] == "conflict", result


@pytest.mark.parametrize("viewer", VIEWERS)
def test_pulled_members_and_conflict_records_are_masked_for_the_viewer(world, viewer):
    make_conflicts(world)
    fresh = Phone(world.client, world.make, world.users[viewer])
    answer = fresh.pull()
    text = body_of(answer)
    conflicts = fresh.records("conflict")
    members = fresh.records("member")
    if SEES[viewer] == "hidden":
        assert members == {} and conflicts == {}
        assert PHONE not in text and EPIC not in text
        return
    assert members[world.member_id]["phone"] == expected(viewer, "phone", PHONE)
    assert len(conflicts) == len(WRITERS)
    for conflict in conflicts.values():
        assert conflict["kept"]["phone"] == expected(viewer, "phone", PHONE)
        assert conflict["kept"]["epic"] == expected(viewer, "epic", EPIC)
        lost = conflict["lost"]
        assert "*" in lost["phone"] if SEES[viewer] == "masked" else "*" not in lost["phone"]
    assert_shown(viewer, text, PHONE, EPIC)


@pytest.mark.parametrize("viewer", VIEWERS)
def test_the_online_api_masks_by_the_same_rule(world, viewer):
    headers = world.phones[viewer].headers
    listed = world.client.get("/api/members", headers=headers)
    one = world.client.get(f"/api/members/{world.member_id}", headers=headers)
    assert listed.status_code == 200
    if SEES[viewer] == "hidden":
        assert listed.json["items"] == [] and one.status_code == 404
        return
    for record in (listed.json["items"][0], one.json):
        assert record["phone"] == expected(viewer, "phone", PHONE)
        assert record["epic"] == expected(viewer, "epic", EPIC)


# ---------------------------------------------------------------- conflict records and notes


def grievance(world, category, **kw):
    gid = new_id()
    fields = {
        "booth_id": world.g.b1.id,
        "category": category,
        "description": "प्रखंड अध्यक्ष पैसे माँगते हैं",
        "complainant_phone": "9812398123",
        **kw,
    }
    result = world.author.send("grievance", gid, fields)
    assert result["status"] == "applied", result
    return gid


def leaders(world):
    return [world.phones["block_president"], world.phones["district_president"]]


def test_conflicts_about_a_complaint_on_an_office_bearer_stay_with_the_booth(world):
    """Two phones of the author edit a party_conduct complaint: the conflict record is as
    visible as the complaint — the booth and the Connect Centre, not block or district."""
    gid = grievance(world, "party_conduct")
    second = Phone(world.client, world.make, world.users["volunteer"])
    world.author.send("grievance", gid, {"description": "नया विवरण"}, base=1)
    lost = second.send(
        "grievance", gid, {"description": "पुराना विवरण"}, base=1, hlc=second.hlc(-60_000)
    )
    assert lost["status"] == "conflict"
    for phone in leaders(world):
        answer = phone.pull()
        assert phone.records("conflict") == {} and phone.records("grievance") == {}
        assert "विवरण" not in body_of(answer)
    for viewer in ("volunteer", "connect_centre"):
        fresh = Phone(world.client, world.make, world.users[viewer])
        fresh.pull()
        assert [c["record_id"] for c in fresh.records("conflict").values()] == [gid]


def held_of(phone, gid):
    """What a phone holds of a grievance: itself, its notes and its conflict records."""
    return {
        key
        for key, change in phone.seen.items()
        if key == ("grievance", gid)
        or change["record"].get("grievance_id") == gid
        or change["record"].get("record_id") == gid
    }


def test_notes_and_conflicts_follow_a_reclassified_grievance(world):
    """road → party_conduct: block and district are told to drop the grievance, its notes
    and its conflict records; back to road, they get them again."""
    gid = grievance(world, "road")
    note_id = new_id()
    note = world.author.send("grievance_note", note_id, {"grievance_id": gid, "text": "फोटो"})
    assert note["status"] == "applied"
    second = Phone(world.client, world.make, world.users["volunteer"])
    world.author.send("grievance", gid, {"against": "मुखिया"}, base=1)
    clash = second.send("grievance", gid, {"against": "सचिव"}, base=1, hlc=second.hlc(-60_000))
    assert clash["status"] == "conflict"
    for phone in leaders(world):
        phone.pull()
        held = held_of(phone, gid)
        assert {("grievance", gid), ("grievance_note", note_id)} < held
        assert len(held) == 3  # and the conflict record
    attached = held
    moved = world.author.send("grievance", gid, {"category": "party_conduct"}, base=2)
    assert moved["status"] in ("applied", "merged"), moved
    for phone in leaders(world):
        answer = phone.pull()
        removed = {(c["entity"], c["id"]) for c in answer["changes"] if c.get("removed")}
        assert removed == attached, answer
        assert held_of(phone, gid) == set()
        fresh = Phone(world.client, world.make, phone.user)
        fresh.pull()
        assert held_of(fresh, gid) == set()
        opened = world.client.get(f"/api/grievances/{gid}", headers=phone.headers)
        assert opened.status_code == 404
    # The booth and the Connect Centre keep seeing all of it, and are not told to drop it.
    for viewer in ("volunteer", "connect_centre"):
        fresh = Phone(world.client, world.make, world.users[viewer])
        fresh.pull()
        assert held_of(fresh, gid) == attached
    answer = world.author.pull()
    assert not [c for c in answer["changes"] if c.get("removed")]
    back = world.author.send("grievance", gid, {"category": "road"}, base=moved["version"])
    assert back["status"] in ("applied", "merged"), back
    for phone in leaders(world):
        phone.pull()
        assert held_of(phone, gid) == attached
        opened = world.client.get(f"/api/grievances/{gid}", headers=phone.headers)
        assert [n["id"] for n in opened.json["notes"]] == [note_id]


def test_conflicts_about_a_member_follow_it_to_another_booth(world):
    """A member moved to another block's booth takes its conflict records along: the old
    booth's people are told to drop them, the new booth's get them."""
    make_conflicts(world)
    world.author.pull()
    assert len(world.author.records("conflict")) == len(WRITERS)
    version = world.author.records("member")[world.member_id]["version"]
    president = world.phones["district_president"]
    moved = president.send("member", world.member_id, {"booth_id": world.g.b3.id}, base=version)
    assert moved["status"] == "applied", moved
    world.author.pull()
    assert world.author.seen == {}
    newcomer = Phone(world.client, world.make, world.make.user("volunteer", world.g.b3))
    newcomer.pull()
    conflicts = newcomer.records("conflict").values()
    assert len(conflicts) == len(WRITERS)
    assert {c["booth_id"] for c in conflicts} == {world.g.b3.id}
    # The new booth's volunteer sees the values in full, the old block president nothing.
    assert PHONE in body_of(list(conflicts))
    old_president = Phone(world.client, world.make, world.users["block_president"])
    old_president.pull()
    assert old_president.seen == {}


# ---------------------------------------------------------------- the EPIC held elsewhere


def test_epic_taken_names_the_booth_only_inside_the_callers_scope(world):
    elsewhere = Phone(world.client, world.make, world.make.user("volunteer", world.g.b3))
    refused = elsewhere.send("member", new_id(), member_fields(world.g.b3, epic=EPIC))
    assert refused["error"]["code"] == "epic_taken"
    text = body_of(refused)
    assert world.g.b1.code not in text and "another booth" in refused["error"]["message"]
    assert refused["error"]["fields"] == {"epic": [refused["error"]["message"]]}
    president = world.phones["block_president"]
    named = president.send("member", new_id(), member_fields(world.g.b2, epic=EPIC))
    assert named["error"]["code"] == "epic_taken"
    assert world.g.b1.code in named["error"]["message"]


# ---------------------------------------------------------------- logs


def test_a_uniqueness_race_is_logged_without_the_values(world, monkeypatch, caplog):
    """Two pushes that slip past the EPIC lock (here: the check is switched off) collide on
    the unique index; the log line names the constraint, never the EPIC."""
    from server.syncing.store import BatchStore

    monkeypatch.setattr(BatchStore, "epic_holder", lambda self, epic, exclude_id: None)
    other = Phone(world.client, world.make, world.make.user("volunteer", world.g.b3))
    with caplog.at_level(logging.DEBUG):
        response = other.push_raw(
            [other.mutation("member", new_id(), member_fields(world.g.b3, epic=EPIC))]
        )
    assert response.status_code == 503
    assert caplog.records, "the collision is logged"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert EPIC not in logged and PHONE not in logged


def test_database_errors_never_quote_the_values(app):
    """An error from any statement (and a log line quoting it) shows no bound values."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from server.extensions import db

    with app.app_context(), pytest.raises(DBAPIError) as raised:
        try:
            db.session.execute(text("SELECT * FROM no_such_table WHERE x = :v"), {"v": EPIC})
        finally:
            db.session.rollback()
    assert EPIC not in str(raised.value)


def test_the_migration_withdraws_leaked_notes_and_conflicts_of_old_rows(world, app):
    """Rows indexed by the code before this fix (a party_conduct grievance's conflict and a
    note written before it was reclassified, with block and district columns) are moved to
    the restricted scope by migration 0002: block and district are told to drop them."""

    from sqlalchemy import update

    from server.extensions import db
    from server.syncing.models import RecordChange

    gid = grievance(world, "party_conduct")
    note_id = new_id()
    world.author.send("grievance_note", note_id, {"grievance_id": gid, "text": "फोटो भेजी"})
    second = Phone(world.client, world.make, world.users["volunteer"])
    world.author.send("grievance", gid, {"description": "नया विवरण"}, base=1)
    lost = second.send("grievance", gid, {"description": "पुराना"}, base=1, hlc=second.hlc(-60_000))
    assert lost["status"] == "conflict"
    with app.app_context():  # the index as the old code wrote it
        g = world.g
        for entity in ("grievance_note", "conflict"):
            db.session.execute(
                update(RecordChange)
                .where(RecordChange.entity == entity, RecordChange.scope_key == f"b{g.b1.id}r")
                .values(scope_key=f"b{g.b1.id}", block_id=g.k1.id, district_id=g.d1.id)
            )
        db.session.commit()
    for phone in leaders(world):
        phone.pull()
        assert {k[0] for k in phone.seen if k[0] != "member"} == {"grievance_note", "conflict"}
    migration = load_migration("0002_visibility")
    with app.app_context():
        migration.reindex(db.session.connection())
        db.session.commit()
    for phone in leaders(world):
        phone.pull()
        assert held_of(phone, gid) == set()
        fresh = Phone(world.client, world.make, phone.user)
        fresh.pull()
        assert held_of(fresh, gid) == set()
    for viewer in ("volunteer", "connect_centre"):
        fresh = Phone(world.client, world.make, world.users[viewer])
        fresh.pull()
        assert len(held_of(fresh, gid)) == 3
