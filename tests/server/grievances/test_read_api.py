"""GET /api/grievances and /api/grievances/<id>: scope, masking, filters, search, notes."""

import types
import uuid

import pytest
from sqlalchemy import select

from server.audit.models import AuditEntry
from server.extensions import db
from server.serialize import WIRE_FIELDS
from tests.server.roster.read_api_records import (
    DAY_MS,
    add_grievance,
    add_note,
    statements,
    touching,
)

ROAD, WATER, PENSION, RATION, HEALTH = (
    "गाँव की सड़क टूटी है",
    "हैंडपंप खराब है",
    "वृद्धा पेंशन नहीं मिली",
    "Ration shop closed for weeks",
    "स्वास्थ्य केंद्र में डॉक्टर नहीं",
)
VISIBLE = {
    "volunteer": {ROAD, WATER},
    "block_president": {ROAD, WATER, PENSION},
    "district_president": {ROAD, WATER, PENSION, RATION},
    "connect_centre": {ROAD, WATER, PENSION, RATION, HEALTH},
    "admin": {ROAD, WATER, PENSION, RATION, HEALTH},
}
ROLES = tuple(VISIBLE)


@pytest.fixture
def world(make):
    """Grievances in every booth, one overdue, one deleted, and a note thread on the road."""
    g = make.geo()
    author = make.user("volunteer", g.b1)
    now = make.now()
    w = types.SimpleNamespace(g=g, make=make, now=now)
    w.road = add_grievance(
        g.b1,
        author,
        ROAD,
        reported_at=now - 30 * DAY_MS,
        complainant_name="राम कुमार",
        complainant_phone="9876543210",
        against="BDO",
    )
    w.water = add_grievance(
        g.b1, author, WATER, reported_at=now - 2 * DAY_MS, category="water", status="resolved"
    )
    w.pension = add_grievance(
        g.b2,
        author,
        PENSION,
        reported_at=now - 25 * DAY_MS,
        category="pension",
        status="in_progress",
        complainant_name="Sunita Devi",
    )
    w.ration = add_grievance(g.b3, author, RATION, reported_at=now - 1 * DAY_MS, category="ration")
    w.health = add_grievance(
        g.b4, author, HEALTH, reported_at=now - 40 * DAY_MS, category="health", status="closed"
    )
    w.gone = add_grievance(g.b1, author, "Withdrawn by mistake", deleted=True)
    w.notes = [
        add_note(w.road, author, "पहला नोट", created_at=now - 20 * DAY_MS),
        add_note(w.road, author, "Second note", created_at=now - 10 * DAY_MS),
    ]
    # Written later but stamped earlier: the thread follows created_at, not insertion.
    w.notes.insert(0, add_note(w.road, author, "Earliest note", created_at=now - 29 * DAY_MS))
    add_note(w.road, author, "Deleted note", created_at=now - 5 * DAY_MS, deleted=True)
    add_note(w.water, author, "Note on another grievance", created_at=now - DAY_MS)
    w.users = {role: make.user(role) for role in ROLES}
    w.headers = {role: make.headers(user) for role, user in w.users.items()}
    return w


def get(client, w, role, path="/api/grievances", **params):
    return client.get(path, query_string=params, headers=w.headers[role])


def descriptions(response):
    assert response.status_code == 200, response.json
    return [item["description"] for item in response.json["items"]]


@pytest.mark.parametrize("role", ROLES)
def test_each_role_lists_only_its_area(client, world, role):
    response = get(client, world, role)
    assert set(descriptions(response)) == VISIBLE[role]
    assert response.json["total"] == len(VISIBLE[role])


@pytest.mark.parametrize("role", ROLES)
def test_grievance_outside_the_area_is_not_found(client, world, role):
    assert get(client, world, role, f"/api/grievances/{world.road.id}").status_code == 200
    outside = get(client, world, role, f"/api/grievances/{world.ration.id}")
    if RATION in VISIBLE[role]:
        assert outside.status_code == 200
    else:
        assert outside.status_code == 404
        assert outside.json["error"]["code"] == "not_found"


@pytest.mark.parametrize("role", ROLES)
def test_complainant_phone_in_full_only_for_volunteer_and_block_president(client, world, role):
    listed = get(client, world, role, q="सड़क").json["items"][0]
    opened = get(client, world, role, f"/api/grievances/{world.road.id}").json
    expected = "9876543210" if role in ("volunteer", "block_president") else "******3210"
    assert listed["complainant_phone"] == opened["complainant_phone"] == expected
    assert opened["complainant_name"] == "राम कुमार"


def test_newest_first(client, world):
    assert descriptions(get(client, world, "connect_centre")) == [
        RATION,
        WATER,
        PENSION,
        ROAD,
        HEALTH,
    ]


def test_filters(client, world):
    g = world.g
    cc = "connect_centre"
    assert descriptions(get(client, world, cc, booth_id=g.b2.id)) == [PENSION]
    assert descriptions(get(client, world, cc, block_id=g.k1.id)) == [WATER, PENSION, ROAD]
    assert descriptions(get(client, world, cc, status="resolved")) == [WATER]
    assert descriptions(get(client, world, cc, category="pension")) == [PENSION]
    assert descriptions(get(client, world, cc, category="road", status="new")) == [ROAD]
    assert descriptions(get(client, world, cc, category="land")) == []


def test_overdue_is_past_due_and_still_open(client, world):
    # ROAD (30 days, new) and PENSION (25 days, in progress) are past the 21 days;
    # HEALTH is older but closed, WATER and RATION are recent.
    assert descriptions(get(client, world, "connect_centre", overdue="true")) == [PENSION, ROAD]
    assert descriptions(get(client, world, "connect_centre", overdue="false")) == [
        RATION,
        WATER,
        HEALTH,
    ]
    assert descriptions(get(client, world, "volunteer", overdue="true")) == [ROAD]


def test_search_by_reference_description_and_complainant(client, world):
    cc = "connect_centre"
    assert descriptions(get(client, world, cc, q=world.pension.ref_no.lower())) == [PENSION]
    assert descriptions(get(client, world, cc, q="सड़क")) == [ROAD]
    assert descriptions(get(client, world, cc, q="ration shop")) == [RATION]
    assert descriptions(get(client, world, cc, q="sunita")) == [PENSION]
    assert descriptions(get(client, world, cc, q="राम")) == [ROAD]
    assert descriptions(get(client, world, cc, q="bdo")) == []


def test_search_stays_inside_the_area(client, world):
    assert descriptions(get(client, world, "volunteer", q="sunita")) == []


@pytest.mark.parametrize(
    ("role", "booth"),
    [("volunteer", "b2"), ("block_president", "b3"), ("district_president", "b4")],
)
def test_booth_outside_the_area_is_forbidden(client, world, role, booth):
    response = get(client, world, role, booth_id=getattr(world.g, booth).id)
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"sort": "oldest"}, "sort"),
        ({"status": "open"}, "status"),
        ({"category": "roads"}, "category"),
        ({"overdue": "maybe"}, "overdue"),
        ({"booth_id": "one"}, "booth_id"),
        ({"per_page": "500"}, "per_page"),
    ],
)
def test_bad_query_arguments_are_refused_naming_the_field(client, world, params, field):
    response = get(client, world, "district_president", **params)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"
    assert list(response.json["error"]["fields"]) == [field]


def test_pages(client, world):
    body = get(client, world, "admin", per_page=2, page=3).json
    assert (body["total"], body["pages"], body["page"], body["per_page"]) == (5, 3, 3, 2)
    assert descriptions(get(client, world, "admin", per_page=2, page=3)) == [HEALTH]


def test_detail_has_notes_oldest_first_and_status_history(client, world):
    world.road.status_history = [{"status": "new", "at": world.road.reported_at}]
    db.session.commit()
    record = get(client, world, "district_president", f"/api/grievances/{world.road.id}").json
    assert [n["text"] for n in record["notes"]] == ["Earliest note", "पहला नोट", "Second note"]
    assert [n["id"] for n in record["notes"]] == [n.id for n in world.notes]
    assert {n["grievance_id"] for n in record["notes"]} == {world.road.id}
    assert set(record["notes"][0]) == set(WIRE_FIELDS["grievance_note"])
    assert record["status_history"] == [{"status": "new", "at": world.road.reported_at}]
    assert record["ref_no"] == world.road.ref_no
    assert record["created_at"] == world.road.reported_at
    assert record["due_at"] == world.road.due_at


def test_notes_are_read_in_one_query(client, world):
    path = f"/api/grievances/{world.road.id}"
    with statements() as sent:
        response = get(client, world, "connect_centre", path)
    assert len(response.json["notes"]) == 3
    assert len(touching(sent, "grievance_notes")) == 1
    assert len(touching(sent, "grievances")) == 1


def test_a_page_is_one_query_and_the_count_another(client, world):
    with statements() as sent:
        response = get(client, world, "connect_centre", per_page=3)
    assert len(response.json["items"]) == 3
    assert len(touching(sent, "grievances")) == 2
    assert touching(sent, "grievance_notes") == []


def test_deleted_grievance_is_hidden(client, world):
    assert descriptions(get(client, world, "admin", q="withdrawn by mistake")) == []
    assert get(client, world, "admin", f"/api/grievances/{world.gone.id}").status_code == 404
    assert get(client, world, "admin", f"/api/grievances/{uuid.uuid4()}").status_code == 404


def test_opening_a_grievance_is_written_to_the_access_log(client, world):
    user = world.users["connect_centre"]
    response = get(client, world, "connect_centre", f"/api/grievances/{world.road.id}")
    assert response.status_code == 200
    db.session.rollback()
    entries = db.session.scalars(select(AuditEntry)).all()
    assert [(e.action, e.entity, e.record_id, e.user_id) for e in entries] == [
        ("read", "grievance", world.road.id, user.id)
    ]


@pytest.mark.parametrize("path", ["/api/grievances", "/api/grievances/some-id"])
def test_without_a_token_is_unauthorized(client, world, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


def test_openapi_describes_arguments_and_answers(client):
    spec = client.get("/api/openapi.json").json
    listing = spec["paths"]["/api/grievances"]["get"]
    params = {p["name"] for p in listing["parameters"] if p["in"] == "query"}
    assert params == {
        "page",
        "per_page",
        "booth_id",
        "block_id",
        "status",
        "category",
        "overdue",
        "q",
    }
    one = spec["paths"]["/api/grievances/{grievance_id}"]["get"]["responses"]["200"]
    name = one["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    detail = spec["components"]["schemas"][name]["properties"]
    wire = set(WIRE_FIELDS["grievance"]) | {"created_at", "received_at"}
    assert set(detail) == wire | {"notes"}


def test_a_complaint_about_an_office_bearer_is_hidden_from_block_and_district_leaders(client, make):
    g = make.geo()
    volunteer = make.user("volunteer", g.b1)
    grievance = add_grievance(g.b1, volunteer, "अध्यक्ष", category="party_conduct")
    for role, unit, seen in (
        ("volunteer", g.b1, True),
        ("block_president", g.k1, False),
        ("district_president", g.d1, False),
        ("connect_centre", g.state, True),
    ):
        headers = make.headers(make.user(role, unit))
        listed = client.get("/api/grievances", headers=headers).json["items"]
        assert ([i["id"] for i in listed] == [grievance.id]) is seen, role
        one = client.get(f"/api/grievances/{grievance.id}", headers=headers)
        assert one.status_code == (200 if seen else 404), role


@pytest.mark.parametrize("role, unit", [("block_president", "k1"), ("district_president", "d1")])
def test_a_leader_who_reported_a_complaint_about_an_office_bearer_follows_it_online(
    client, make, role, unit
):
    """As in a pull (sync/scope.py can_see): whoever reported a complaint follows it, whatever
    its category; other leaders of the same area still do not see it."""
    g = make.geo()
    reporter = make.user(role, getattr(g, unit))
    grievance = add_grievance(g.b1, reporter, "अध्यक्ष", category="party_conduct")
    for viewer, seen in ((reporter, True), (make.user(role, getattr(g, unit)), False)):
        headers = make.headers(viewer)
        listed = client.get("/api/grievances", headers=headers).json["items"]
        assert ([i["id"] for i in listed] == [grievance.id]) is seen
        one = client.get(f"/api/grievances/{grievance.id}", headers=headers)
        assert one.status_code == (200 if seen else 404)
