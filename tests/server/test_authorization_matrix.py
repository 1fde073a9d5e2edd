"""Every role × every record endpoint × a unit inside and outside its scope: the exact answer.

Accounts, devices and people management have their own matrix in
tests/server/accounts/test_authorization.py.
"""

import pytest

from server.extensions import db
from server.roster.models import Member
from tests.server.roster.read_api_records import add_grievance, add_member
from tests.server.syncing.phone import Phone, member_fields, new_id

ROLES = {
    "volunteer": "b1",
    "block_president": "k1",
    "district_president": "d1",
    "connect_centre": "state",
    "admin": "state",
}
# Inside: booth b1 (block k1, district d1), in every role's scope. Outside: booth b4 in
# district d2, outside every role's scope but the state-wide ones.
STATE_WIDE = ("connect_centre", "admin")


@pytest.fixture
def setup(client, make):
    g = make.geo()
    author = make.user("volunteer", g.b1)
    far = make.user("volunteer", g.b4)
    records = {
        "inside": {
            "booth": g.b1,
            "member": add_member(g.b1, author, "राम"),
            "grievance": add_grievance(g.b1, author, "सड़क"),
        },
        "outside": {
            "booth": g.b4,
            "member": add_member(g.b4, far, "श्याम"),
            "grievance": add_grievance(g.b4, far, "पानी"),
        },
    }
    db.session.commit()
    return g, records


def expected(role, where, inside_answer, outside_answer):
    return inside_answer if where == "inside" or role in STATE_WIDE else outside_answer


def call(client, make, g, role, method, path):
    headers = make.headers(make.user(role, getattr(g, ROLES[role])))
    return getattr(client, method)(path, headers=headers)


CASES = [
    # (endpoint, path template, answer inside, answer outside)
    ("unit", "/api/units/{booth}", 200, 403),
    ("members of a booth", "/api/members?booth_id={booth}", 200, 403),
    ("one member", "/api/members/{member}", 200, 404),
    ("grievances of a booth", "/api/grievances?booth_id={booth}", 200, 403),
    ("one grievance", "/api/grievances/{grievance}", 200, 404),
]


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("where", ["inside", "outside"])
@pytest.mark.parametrize(
    ("endpoint", "template", "ok", "refused"), CASES, ids=[c[0] for c in CASES]
)
def test_read_endpoints(client, make, setup, role, where, endpoint, template, ok, refused):
    g, records = setup
    r = records[where]
    path = template.format(booth=r["booth"].id, member=r["member"].id, grievance=r["grievance"].id)
    response = call(client, make, g, role, "get", path)
    want = expected(role, where, ok, refused)
    assert response.status_code == want, response.json
    if want != 200:
        assert response.json["error"]["code"] == {403: "forbidden", 404: "not_found"}[want]


@pytest.mark.parametrize(
    ("endpoint", "template"),
    [(c[0], c[1]) for c in CASES] + [("tree", "/api/units/tree"), ("pull", "/api/sync/pull")],
)
def test_every_read_endpoint_needs_a_login(client, setup, endpoint, template):
    _g, records = setup
    r = records["inside"]
    path = template.format(booth=r["booth"].id, member=r["member"].id, grievance=r["grievance"].id)
    response = client.get(path)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


WRITES = [
    # (what, fields for the booth, answer inside by role, answer outside)
    ("add a member", "member_new"),
    ("approve a member", "approve"),
    ("report a grievance", "grievance_new"),
    ("acknowledge a grievance", "acknowledge"),
]
INSIDE_WRITE = {
    "member_new": dict.fromkeys(ROLES, "applied"),
    "approve": {**dict.fromkeys(ROLES, "applied"), "volunteer": "rejected:not_allowed"},
    "grievance_new": dict.fromkeys(ROLES, "applied"),
    "acknowledge": {
        **dict.fromkeys(ROLES, "applied"),
        "volunteer": "rejected:transition_not_allowed",
    },
}


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("where", ["inside", "outside"])
@pytest.mark.parametrize(("what", "kind"), WRITES, ids=[w[0] for w in WRITES])
def test_sync_writes(client, make, setup, role, where, what, kind):
    g, records = setup
    r = records[where]
    booth = r["booth"]
    phone = Phone(client, make, make.user(role, getattr(g, ROLES[role])))
    if kind == "member_new":
        result = phone.send("member", new_id(), member_fields(booth))
    elif kind == "approve":
        result = phone.send("member", r["member"].id, {"status": "approved"}, base=1)
    elif kind == "grievance_new":
        result = phone.send(
            "grievance", new_id(), {"booth_id": booth.id, "category": "road", "description": "सड़क"}
        )
    else:
        result = phone.send("grievance", r["grievance"].id, {"status": "acknowledged"}, base=1)
    got = result["status"] + (":" + result["error"]["code"] if result["error"] else "")
    want = (
        INSIDE_WRITE[kind][role]
        if (where == "inside" or role in STATE_WIDE)
        # A record outside the area is answered as one the server does not have; a new
        # record in a booth outside the area is refused for the booth.
        else ("rejected:out_of_scope" if kind.endswith("_new") else "rejected:not_found")
    )
    assert got == want
    if want.startswith("rejected") and kind == "approve":
        assert db.session.get(Member, r["member"].id).status == "pending"
