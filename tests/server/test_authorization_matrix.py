"""Every role × every record endpoint × a unit inside and outside its scope: the exact answer.

Then the one place those answers come from: the table of unit types and the role lists of
sync/scope.py, checked against the tree itself, and the SQL form of server/scope.py
checked against the Python form for every pair of units of a small tree.

Accounts, devices and people management have their own matrix in
tests/server/accounts/test_authorization.py.
"""

import itertools

import pytest
from sqlalchemy import select

from server.extensions import db
from server.geo import models as geo_models
from server.geo.models import Unit
from server.grievances.models import Grievance
from server.meetings.audience import units_reaching
from server.roster.models import Member
from server.scope import grievance_filter, unit_within, within_condition
from server.syncing.models import RecordChange
from server.syncing.pull import scope_condition
from server.syncing.visibility import row_visible
from sync import scope
from sync.fields import ROLES as ALL_ROLES
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


# ---------------------------------------------------------------- the one table


def _tree(g):
    return [
        getattr(g, name)
        for name in ("state", "ls", "ac", "d1", "d2", "k1", "k2", "k3", "p1", "p2", "p3")
        + ("b1", "b2", "b3", "b4")
    ]


def _inside(scope_unit, unit, units) -> bool:
    """The oracle, from the tree alone: the state holds everything; a unit holds itself
    and what hangs below it by `parent_id` in the administrative tree; an assembly seat
    and its Lok Sabha seat hold the booths of the seat."""
    if scope_unit.type == "state" or scope_unit.id == unit.id:
        return True
    seats = ("assembly", "lok_sabha")
    parent = units.get(unit.parent_id)
    while parent is not None and unit.type not in seats and parent.type not in seats:
        if parent.id == scope_unit.id:
            return True
        parent = units.get(parent.parent_id)
    if unit.type == "booth":
        seat = units[unit.assembly_id]
        return scope_unit.id in (seat.id, seat.parent_id)
    return False


def test_the_table_names_every_unit_type_of_the_geography():
    assert set(scope.UNIT_TYPES) == set(geo_models.UNIT_TYPES)
    assert set(scope.ROLE_UNIT_TYPE) == set(ALL_ROLES)
    assert [t for t in scope.UNIT_TYPES if scope.holds_everything(t)] == ["state"]


def test_the_table_agrees_with_the_tree_for_every_pair_of_units(make):
    units = {u.id: u for u in _tree(make.geo())}
    lookup = units.get
    for scope_unit, unit in itertools.product(units.values(), repeat=2):
        want = _inside(scope_unit, unit, units)
        assert scope.place_within(scope_unit.type, scope_unit.id, unit, lookup=lookup) == want, (
            scope_unit,
            unit,
        )
        # Without the unit itself, as the unit tree lists what is under a unit: only the
        # state and a booth are under themselves.
        below = want and (scope_unit.id != unit.id or scope_unit.type in ("state", "booth"))
        got = scope.place_within(
            scope_unit.type, scope_unit.id, unit, include_self=False, lookup=lookup
        )
        assert got == below, (scope_unit, unit)


@pytest.mark.parametrize("include_self", [True, False])
def test_the_sql_form_answers_as_the_python_form_for_every_pair_of_units(make, include_self):
    units = _tree(make.geo())
    for scope_unit in units:
        condition = within_condition(scope_unit, Unit, include_self=include_self)
        sql = set(db.session.scalars(select(Unit.id).where(condition)))
        python = {
            u.id
            for u in units
            if scope.place_within(
                scope_unit.type,
                scope_unit.id,
                u,
                include_self=include_self,
                lookup=lambda i: db.session.get(Unit, i),
            )
        }
        assert sql == python, scope_unit
        if include_self:
            assert {u.id for u in units if unit_within(scope_unit, u)} == python


def test_the_sql_form_for_booth_records_answers_as_the_python_form(make):
    g = make.geo()
    author = make.user("volunteer", g.b1)
    members = [add_member(booth, author, "राम") for booth in (g.b1, g.b2, g.b3, g.b4)]
    for scope_unit in _tree(g):
        condition = within_condition(scope_unit, Member, record=True)
        sql = set(db.session.scalars(select(Member.id).where(condition)))
        python = {m.id for m in members if scope.record_within(scope_unit.type, scope_unit.id, m)}
        assert sql == python, scope_unit
        # A record is where its booth is, for the unit types a record carries.
        booth_of = {m.id: db.session.get(Unit, m.booth_id) for m in members}
        carried = scope.UNIT_TYPES[scope_unit.type].record_key or scope.holds_everything(
            scope_unit.type
        )
        by_booth = {
            m.id
            for m in members
            if carried and scope.place_within(scope_unit.type, scope_unit.id, booth_of[m.id])
        }
        assert python == by_booth, scope_unit


def _change_rows(g, owner):
    """Change-index rows of every kind: booth records (open and restricted), a record
    followed by its reporter, and meetings of every unit for every audience."""
    rows = []
    for n, booth in enumerate((g.b1, g.b2, g.b3, g.b4)):
        placed = {"booth_id": booth.id, "block_id": booth.block_id}
        rows.append(
            ("member", f"m{n}", f"b{booth.id}", {**placed, "district_id": booth.district_id})
        )
        rows.append(
            (
                "grievance",
                f"g{n}",
                f"b{booth.id}r",
                {"booth_id": booth.id, "owner_id": owner.id if n == 3 else None},
            )
        )
    for n, (unit, roles) in enumerate(itertools.product(_tree(g), (("volunteer",), ALL_ROLES))):
        audience = "," + ",".join(roles) + ","
        rows.append(("meeting", f"e{n}", f"u{unit.id}", {"unit_id": unit.id, "audience": audience}))
    for tx, (entity, record_id, key, columns) in enumerate(rows, 1):
        db.session.add(
            RecordChange(entity=entity, record_id=record_id, scope_key=key, change_tx=tx, **columns)
        )
    db.session.commit()


@pytest.mark.parametrize("role", list(ROLES))
def test_the_pull_condition_answers_as_its_python_twin(make, role):
    g = make.geo()
    units = {"booth": (g.b1, g.b3, g.b4), "block": (g.k1, g.k3), "district": (g.d1, g.d2)}
    owner = make.user("volunteer", g.b1)
    _change_rows(g, owner)
    rows = db.session.scalars(select(RecordChange)).all()
    users = [make.user(role, unit) for unit in units.get(scope.ROLE_UNIT_TYPE[role], (g.state,))]
    for user in [*users, owner]:
        reaching = units_reaching(user)
        query = select(RecordChange.entity, RecordChange.record_id)
        sql = set(db.session.execute(query.where(scope_condition(user, reaching))).all())
        python = {(r.entity, r.record_id) for r in rows if row_visible(user, r, reaching)}
        assert sql == python, user.unit
    # The reporter follows a grievance out of their booth.
    assert ("grievance", "g3") in python


# ---------------------------------------------------------------- the role lists

ROLE_TABLE = {
    # role: (reviews roster entries, leads, sees personal data in full, hidden categories)
    "volunteer": (False, False, True, []),
    "block_president": (True, True, True, ["party_conduct"]),
    "district_president": (True, True, False, ["party_conduct"]),
    "connect_centre": (True, True, False, []),
    "admin": (True, True, False, []),
}


@pytest.mark.parametrize("role", ALL_ROLES)
def test_the_role_lists(role):
    reviews, leads, full, hidden = ROLE_TABLE[role]
    assert (role in scope.REVIEWERS, role in scope.LEADERS) == (reviews, leads)
    assert (role in scope.FULL_PERSONAL_DATA, scope.hidden_categories(role)) == (full, hidden)
    assert {name: list(roles) for name, roles in scope.ROLE_LISTS.items()} == {
        "reviewers": list(scope.REVIEWERS),
        "leaders": list(scope.LEADERS),
        "full_personal_data": list(scope.FULL_PERSONAL_DATA),
    }


@pytest.mark.parametrize("role", ALL_ROLES)
def test_the_grievance_filter_hides_what_the_python_form_hides(make, role):
    g = make.geo()
    author = make.user("volunteer", g.b1)
    for category in ("road", *scope.SENSITIVE_CATEGORIES):
        add_grievance(g.b1, author, "सड़क", category=category)
    viewer = make.user(role)
    sql = set(
        db.session.scalars(select(Grievance.category).where(grievance_filter(viewer, Grievance)))
    )
    shown = {"road", *scope.SENSITIVE_CATEGORIES} - set(scope.hidden_categories(role))
    assert sql == shown
