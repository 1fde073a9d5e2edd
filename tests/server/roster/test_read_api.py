"""GET /api/members and /api/members/<id>: scope, masking, search, filters, paging, access log."""

import types
import unicodedata
import uuid

import pytest
from sqlalchemy import select

from server.audit.models import AuditEntry
from server.extensions import db
from server.serialize import WIRE_FIELDS
from tests.server.roster.read_api_records import add_member, statements, touching

RAM, SUNITA, AMIT, BIRSA, CHAMPA = (
    "राम कुमार",
    "Sunita Devi",
    "Amit Oraon",
    "Birsa Munda",
    "Champa Soren",
)
# The names each role reads: its own booth, block, district, or the whole state.
VISIBLE = {
    "volunteer": {RAM, SUNITA},
    "block_president": {RAM, SUNITA, AMIT},
    "district_president": {RAM, SUNITA, AMIT, BIRSA},
    "connect_centre": {RAM, SUNITA, AMIT, BIRSA, CHAMPA},
    "admin": {RAM, SUNITA, AMIT, BIRSA, CHAMPA},
}
ROLES = tuple(VISIBLE)
FULL_VIEW_ROLES = ("volunteer", "block_president")


@pytest.fixture
def world(make):
    """Two members in booth b1, one in each other booth, and a deleted one in b1."""
    g = make.geo()
    author = make.user("volunteer", g.b1)
    w = types.SimpleNamespace(g=g, make=make)
    w.ram = add_member(g.b1, author, RAM, phone="9876543210", epic="ABC1234567", status="approved")
    w.sunita = add_member(g.b1, author, SUNITA, phone="9123456780", epic="XYZ7654321")
    w.amit = add_member(g.b2, author, AMIT, phone="8123456789")
    w.birsa = add_member(g.b3, author, BIRSA, status="approved")
    w.champa = add_member(g.b4, author, CHAMPA, epic="JHR0000001")
    w.gone = add_member(g.b1, author, "Gone Person", deleted=True)
    w.users = {role: make.user(role) for role in ROLES}
    w.headers = {role: make.headers(user) for role, user in w.users.items()}
    return w


def get(client, w, role, path="/api/members", **params):
    return client.get(path, query_string=params, headers=w.headers[role])


def names(response):
    assert response.status_code == 200, response.json
    return [item["name"] for item in response.json["items"]]


@pytest.mark.parametrize("role", ROLES)
def test_each_role_lists_only_its_area(client, world, role):
    response = get(client, world, role)
    assert set(names(response)) == VISIBLE[role]
    assert response.json["total"] == len(VISIBLE[role])


@pytest.mark.parametrize("role", ROLES)
def test_member_outside_the_area_is_not_found(client, world, role):
    inside = get(client, world, role, f"/api/members/{world.ram.id}")
    outside = get(client, world, role, f"/api/members/{world.champa.id}")
    assert inside.status_code == 200
    assert inside.json["name"] == RAM
    if CHAMPA in VISIBLE[role]:
        assert outside.status_code == 200
    else:
        assert outside.status_code == 404
        assert outside.json["error"]["code"] == "not_found"


@pytest.mark.parametrize("role", ROLES)
def test_phone_and_epic_in_full_only_for_volunteer_and_block_president(client, world, role):
    listed = get(client, world, role, q="राम").json["items"][0]
    opened = get(client, world, role, f"/api/members/{world.ram.id}").json
    if role in FULL_VIEW_ROLES:
        expected = {"phone": "9876543210", "epic": "ABC1234567"}
    else:
        expected = {"phone": "******3210", "epic": "ABC*****67"}
    for record in (listed, opened):
        assert {"phone": record["phone"], "epic": record["epic"]} == expected


def test_record_has_the_wire_fields(client, world):
    record = get(client, world, "connect_centre", f"/api/members/{world.sunita.id}").json
    assert set(record) == set(WIRE_FIELDS["member"])
    assert record["id"] == world.sunita.id
    assert record["booth_id"] == world.g.b1.id
    assert record["status"] == "pending"
    assert record["deleted"] is False


def test_hindi_search_finds_the_devanagari_name(client, world):
    assert names(get(client, world, "connect_centre", q="राम")) == [RAM]
    assert names(get(client, world, "connect_centre", q="कुमार")) == [RAM]


def test_english_search_ignores_case(client, world):
    for q in ("sunita", "SUNITA", "Devi", " sunita "):
        assert names(get(client, world, "connect_centre", q=q)) == [SUNITA], q


def test_search_normalises_the_query_to_nfc(client, world):
    renee = add_member(world.g.b1, world.users["volunteer"], "Renée Tirkey")
    decomposed = unicodedata.normalize("NFD", "renée")
    assert decomposed != "renée"
    found = get(client, world, "connect_centre", q=decomposed).json["items"]
    assert [m["id"] for m in found] == [renee.id]


def test_wildcards_in_the_query_are_literal(client, world):
    assert names(get(client, world, "connect_centre", q="%")) == []
    assert names(get(client, world, "connect_centre", q="_")) == []


@pytest.mark.parametrize("role", FULL_VIEW_ROLES)
def test_full_phone_or_epic_finds_the_member_for_those_who_see_them(client, world, role):
    for q in ("9876543210", "+91 98765-43210", "abc1234567"):
        assert names(get(client, world, role, q=q)) == [RAM], q
    # Only a full number: a part would let anyone sweep the roster digit by digit.
    assert names(get(client, world, role, q="43210")) == []


@pytest.mark.parametrize("role", ["district_president", "connect_centre", "admin"])
def test_phone_or_epic_never_finds_the_member_when_masked(client, world, role):
    for q in ("9876543210", "ABC1234567"):
        assert names(get(client, world, role, q=q)) == [], q


def test_filters_by_booth_block_and_status(client, world):
    g = world.g
    assert names(get(client, world, "district_president", booth_id=g.b2.id)) == [AMIT]
    assert names(get(client, world, "connect_centre", block_id=g.k2.id)) == [BIRSA]
    assert set(names(get(client, world, "connect_centre", block_id=g.k1.id))) == {
        RAM,
        SUNITA,
        AMIT,
    }
    assert names(get(client, world, "connect_centre", status="approved")) == [BIRSA, RAM]
    assert names(get(client, world, "block_president", status="approved", q="राम")) == [RAM]
    assert names(get(client, world, "block_president", status="waitlisted")) == []


@pytest.mark.parametrize(
    ("role", "booth"),
    [
        ("volunteer", "b2"),
        ("block_president", "b3"),
        ("district_president", "b4"),
    ],
)
def test_booth_outside_the_area_is_forbidden(client, world, role, booth):
    response = get(client, world, role, booth_id=getattr(world.g, booth).id)
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"


def test_block_filter_must_overlap_the_area(client, world):
    g = world.g
    # A volunteer filtering by its own block still reads only its own booth.
    assert set(names(get(client, world, "volunteer", block_id=g.k1.id))) == {RAM, SUNITA}
    assert get(client, world, "volunteer", block_id=g.k2.id).status_code == 403
    assert get(client, world, "block_president", block_id=g.k2.id).status_code == 403
    assert get(client, world, "district_president", block_id=g.k3.id).status_code == 403


def test_unit_that_is_no_booth_or_block_names_the_field(client, world):
    g = world.g
    for params, field in (
        ({"booth_id": g.k1.id}, "booth_id"),
        ({"booth_id": 999999}, "booth_id"),
        ({"block_id": g.b1.id}, "block_id"),
    ):
        response = get(client, world, "connect_centre", **params)
        assert response.status_code == 422
        assert list(response.json["error"]["fields"]) == [field]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"colour": "red"}, "colour"),
        ({"status": "maybe"}, "status"),
        ({"booth_id": "b1"}, "booth_id"),
        ({"block_id": "1.5"}, "block_id"),
        ({"per_page": "201"}, "per_page"),
        ({"per_page": "0"}, "per_page"),
        ({"page": "0"}, "page"),
        ({"page": "first"}, "page"),
        ({"q": "x" * 101}, "q"),
    ],
)
def test_bad_query_arguments_are_refused_naming_the_field(client, world, params, field):
    response = get(client, world, "connect_centre", **params)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"
    assert list(response.json["error"]["fields"]) == [field]


def test_pages_count_every_match_and_keep_name_order(client, world):
    g = world.g
    author = world.users["volunteer"]
    for n in (7, 3, 5, 1, 6, 2, 4):
        add_member(g.b4, author, f"Youth {n}")
    twins = sorted(add_member(g.b4, author, "Youth 8").id for _ in range(2))

    seen = []
    for page in (1, 2, 3):
        body = get(
            client, world, "connect_centre", block_id=g.k3.id, q="youth", per_page=3, page=page
        ).json
        assert (body["page"], body["per_page"], body["total"], body["pages"]) == (page, 3, 9, 3)
        seen += body["items"]
    assert [m["name"] for m in seen] == [f"Youth {n}" for n in range(1, 8)] + ["Youth 8"] * 2
    # Same name: the id decides, so a page boundary never repeats or skips anyone.
    assert [m["id"] for m in seen[-2:]] == twins

    beyond = get(client, world, "connect_centre", q="youth", per_page=3, page=4).json
    assert beyond["items"] == []
    assert beyond["total"] == 9


def test_default_and_largest_page_size(client, world):
    body = get(client, world, "connect_centre").json
    assert (body["page"], body["per_page"], body["pages"]) == (1, 50, 1)
    assert get(client, world, "connect_centre", per_page=200).status_code == 200


def test_nothing_found_is_an_empty_first_page(client, world):
    body = get(client, world, "connect_centre", q="nobody").json
    assert body == {"items": [], "page": 1, "per_page": 50, "total": 0, "pages": 0}


def test_deleted_member_is_hidden(client, world):
    assert "Gone Person" not in names(get(client, world, "connect_centre", q="gone"))
    response = get(client, world, "connect_centre", f"/api/members/{world.gone.id}")
    assert response.status_code == 404


def test_unknown_member_is_not_found(client, world):
    for member_id in (str(uuid.uuid4()), "not-a-uuid"):
        response = get(client, world, "admin", f"/api/members/{member_id}")
        assert response.status_code == 404
        assert response.json["error"]["code"] == "not_found"


def test_opening_a_member_is_written_to_the_access_log(client, world):
    user = world.users["district_president"]
    device = world.make.device(user)
    headers = world.make.headers(user, device)
    response = client.get(f"/api/members/{world.ram.id}", headers=headers)
    assert response.status_code == 200
    # Rolled back first: only what the request committed is still there.
    db.session.rollback()
    entries = db.session.scalars(select(AuditEntry)).all()
    assert [
        (e.action, e.entity, e.record_id, e.version, e.user_id, e.device_id) for e in entries
    ] == [("read", "member", world.ram.id, world.ram.version, user.id, device.id)]


def test_lists_and_refusals_are_not_logged_as_reads(client, world):
    get(client, world, "connect_centre")
    get(client, world, "volunteer", f"/api/members/{world.champa.id}")
    db.session.rollback()
    assert db.session.scalars(select(AuditEntry)).all() == []


def test_a_page_is_one_query_and_the_count_another(client, world):
    author = world.users["volunteer"]
    for n in range(20):
        add_member(world.g.b2, author, f"Youth {n:02d}")
    with statements() as sent:
        response = get(client, world, "block_president", per_page=10)
    assert len(response.json["items"]) == 10
    assert len(touching(sent, "members")) == 2


@pytest.mark.parametrize("path", ["/api/members", "/api/members/some-id"])
def test_without_a_token_is_unauthorized(client, world, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


def test_openapi_describes_arguments_and_answers(client):
    spec = client.get("/api/openapi.json").json
    listing = spec["paths"]["/api/members"]["get"]
    params = {p["name"] for p in listing["parameters"] if p["in"] == "query"}
    assert params == {"page", "per_page", "booth_id", "block_id", "status", "q"}
    answer = listing["responses"]["200"]["content"]["application/json"]["schema"]
    page = spec["components"]["schemas"][answer["$ref"].rsplit("/", 1)[1]]
    assert {"items", "page", "per_page", "total", "pages"} <= set(page["properties"])
    one = spec["paths"]["/api/members/{member_id}"]["get"]["responses"]["200"]
    record = one["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(spec["components"]["schemas"][record]["properties"]) == set(WIRE_FIELDS["member"])
