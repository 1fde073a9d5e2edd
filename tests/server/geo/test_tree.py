"""GET /api/units/tree and /api/units/<id>: each role's area, counts, scope, query count."""

import types

import pytest
from sqlalchemy import event

from server.extensions import db
from tests.server.geo.helpers import add_grievance, add_member

ROLES = ("volunteer", "block_president", "district_president", "connect_centre", "admin")


def counts(booths, pending=0, approved=0, rejected=0, waitlisted=0, open=0, total=0):
    return {
        "booths": booths,
        "members": {
            "pending": pending,
            "approved": approved,
            "rejected": rejected,
            "waitlisted": waitlisted,
        },
        "grievances": {"open": open, "total": total},
    }


B1 = counts(1, pending=2, approved=1, open=1, total=2)
B2 = counts(1, rejected=1, total=1)
K1 = counts(2, pending=2, approved=1, rejected=1, open=1, total=3)
K2 = counts(1, waitlisted=1, open=2, total=2)
D1 = counts(3, pending=2, approved=1, rejected=1, waitlisted=1, open=3, total=5)
D2 = counts(1, approved=1, open=1, total=1)
STATE = counts(4, pending=2, approved=2, rejected=1, waitlisted=1, open=4, total=6)
EXPECTED = {
    "JH": STATE,
    "RAN": D1,
    "DHN": D2,
    "RAN-KANKE": K1,
    "P1": K1,
    "AC-1-1": B1,
    "AC-1-2": B2,
    "RAN-ORMANJHI": K2,
    "DHN-GOVINDPUR": D2,
}


def populate(make, g):
    """Members and grievances in each booth, with soft-deleted ones that must not count."""
    author = make.user("admin", g.state)
    for status in ("pending", "pending", "approved"):
        add_member(g.b1, author, status)
    add_member(g.b1, author, "pending", deleted=True)
    add_member(g.b2, author, "rejected")
    add_member(g.b3, author, "waitlisted")
    add_member(g.b4, author, "approved")
    add_grievance(g.b1, author, "new")
    add_grievance(g.b1, author, "closed")
    add_grievance(g.b1, author, "new", deleted=True)
    add_grievance(g.b2, author, "resolved")
    add_grievance(g.b3, author, "in_progress")
    add_grievance(g.b3, author, "reopened")
    add_grievance(g.b4, author, "acknowledged")


@pytest.fixture
def world(make):
    g = make.geo()
    populate(make, g)
    users = {role: make.user(role) for role in ROLES}
    return types.SimpleNamespace(g=g, headers={r: make.headers(u) for r, u in users.items()})


def shape(node):
    return (node["code"], [shape(child) for child in node["children"]])


def all_counts(node, into=None):
    into = {} if into is None else into
    into[node["code"]] = node["counts"]
    for child in node.get("children", []):
        all_counts(child, into)
    return into


TREE_SHAPES = {
    "volunteer": ("AC-1-1", []),
    "block_president": ("RAN-KANKE", [("P1", [("AC-1-1", []), ("AC-1-2", [])])]),
    "district_president": ("RAN", [("RAN-KANKE", []), ("RAN-ORMANJHI", [])]),
    "connect_centre": (
        "JH",
        [
            ("DHN", [("DHN-GOVINDPUR", [])]),
            ("RAN", [("RAN-KANKE", []), ("RAN-ORMANJHI", [])]),
        ],
    ),
}
TREE_SHAPES["admin"] = TREE_SHAPES["connect_centre"]


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_its_own_area_as_the_tree(client, world, role):
    response = client.get("/api/units/tree", headers=world.headers[role])
    assert response.status_code == 200, response.json
    assert shape(response.json) == TREE_SHAPES[role]
    for code, got in all_counts(response.json).items():
        assert got == EXPECTED[code], code


def test_tree_nodes_carry_names_in_both_languages(client, world):
    tree = client.get("/api/units/tree", headers=world.headers["district_president"]).json
    assert {k: tree[k] for k in ("id", "type", "code", "name_en", "name_hi")} == {
        "id": world.g.d1.id,
        "type": "district",
        "code": "RAN",
        "name_en": "Ranchi",
        "name_hi": "राँची",
    }
    assert tree["children"][0]["name_hi"] == "काँके"
    assert tree["children"][0]["parent_id"] == world.g.d1.id


def test_tree_needs_a_login(client, world):
    response = client.get("/api/units/tree")
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


def test_drill_down_from_state_to_booth(client, world):
    g, headers = world.g, world.headers["connect_centre"]

    def children(unit):
        response = client.get(f"/api/units/{unit.id}", headers=headers)
        assert response.status_code == 200, response.json
        assert response.json["counts"] == EXPECTED[unit.code]
        return [(c["code"], c["counts"]) for c in response.json["children"]]

    assert children(g.state) == [("DHN", D2), ("RAN", D1)]
    assert children(g.d1) == [("RAN-KANKE", K1), ("RAN-ORMANJHI", K2)]
    assert children(g.k1) == [("P1", K1)]
    assert children(g.p1) == [("AC-1-1", B1), ("AC-1-2", B2)]
    assert children(g.b1) == []


def test_seats_count_their_booths(client, world):
    g, headers = world.g, world.headers["admin"]
    seat = client.get(f"/api/units/{g.ls.id}", headers=headers).json
    assert seat["counts"] == STATE
    assert [(c["code"], c["counts"]) for c in seat["children"]] == [("AC-1", STATE)]


def test_a_seat_crossing_districts_counts_only_the_callers_booths(client, world):
    world.g.ac.district_id = world.g.d1.id
    db.session.commit()
    response = client.get(
        f"/api/units/{world.g.ac.id}", headers=world.headers["district_president"]
    )
    assert response.status_code == 200
    assert response.json["counts"] == D1


def _inside(role, g):
    return {
        "volunteer": {g.b1},
        "block_president": {g.k1, g.p1, g.b1, g.b2},
        "district_president": {g.d1, g.k1, g.k2, g.p1, g.p2, g.b1, g.b2, g.b3},
    }.get(role)


UNITS = (
    "state",
    "ls",
    "ac",
    "d1",
    "d2",
    "k1",
    "k2",
    "k3",
    "p1",
    "p2",
    "p3",
    "b1",
    "b2",
    "b3",
    "b4",
)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", UNITS)
def test_a_unit_outside_the_area_is_forbidden(client, world, role, name):
    unit = getattr(world.g, name)
    inside = _inside(role, world.g)
    response = client.get(f"/api/units/{unit.id}", headers=world.headers[role])
    if inside is None or unit in inside:
        assert response.status_code == 200, response.json
        assert response.json["id"] == unit.id
    else:
        assert response.status_code == 403
        assert response.json["error"]["code"] == "forbidden"


def test_an_unknown_unit_is_not_found(client, world):
    response = client.get("/api/units/999999", headers=world.headers["admin"])
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def _statements_for(client, path, headers):
    seen = []

    def count(*_args):
        seen.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get(path, headers=headers)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(seen)


def test_the_state_tree_costs_the_same_queries_however_large(client, world, make):
    headers = world.headers["connect_centre"]
    small = _statements_for(client, "/api/units/tree", headers)
    author = make.user("admin", world.g.state)
    for d in range(3):
        district = make.unit("district", f"D{d}", f"District {d}", parent=world.g.state)
        for k in range(4):
            block = make.unit("block", f"D{d}-K{k}", f"Block {k}", parent=district)
            panchayat = make.unit("panchayat", f"D{d}-K{k}-P", "Panchayat", parent=block)
            for b in range(3):
                booth = make.unit("booth", f"D{d}-K{k}-{b}", "Booth", parent=panchayat, number=b)
                add_member(booth, author, "approved")
                add_grievance(booth, author, "new")
    large = _statements_for(client, "/api/units/tree", headers)
    assert large == small
    # Login checks (device, user), the scope unit, the units, and three grouped counts.
    assert small <= 8
    tree = client.get("/api/units/tree", headers=headers).json
    assert tree["counts"]["booths"] == 4 + 36
    assert tree["counts"]["members"]["approved"] == 2 + 36


def test_openapi_describes_the_tree_recursively(client):
    spec = client.get("/api/openapi.json").json
    answer = spec["paths"]["/api/units/tree"]["get"]["responses"]["200"]
    assert answer["content"]["application/json"]["schema"]["$ref"].endswith("/UnitTree")
    tree = spec["components"]["schemas"]["UnitTree"]["properties"]
    assert tree["children"]["items"]["$ref"].endswith("/UnitTree")
    assert "/api/units/{unit_id}" in spec["paths"]


@pytest.mark.parametrize("role", ROLES)
def test_grievance_counts_follow_the_rule_that_lists_grievances(client, make, world, role):
    """A complaint about an office-bearer goes to the Connect Centre only: a block or
    district president who cannot list it must not see it counted either, in the tree
    or in a unit's own counts, while those who may list it see it counted."""
    g = world.g
    author = make.user("admin", g.state)
    add_grievance(g.b1, author, "new", category="party_conduct")
    headers = world.headers[role]
    listed = client.get("/api/grievances?per_page=100", headers=headers).json
    tree = client.get("/api/units/tree", headers=headers).json
    assert tree["counts"]["grievances"]["total"] == listed["total"]
    open_listed = [i for i in listed["items"] if i["status"] not in ("resolved", "closed")]
    assert tree["counts"]["grievances"]["open"] == len(open_listed)
    root = client.get(f"/api/units/{tree['id']}", headers=headers).json
    assert root["counts"]["grievances"]["total"] == listed["total"]
    booth = client.get(f"/api/units/{g.b1.id}", headers=headers)
    if booth.status_code == 200:
        in_booth = client.get(f"/api/grievances?booth_id={g.b1.id}", headers=headers).json
        assert booth.json["counts"]["grievances"]["total"] == in_booth["total"]
    sees_it = role in ("volunteer", "connect_centre", "admin")
    assert any(i["category"] == "party_conduct" for i in listed["items"]) == sees_it
