"""People over the API: listing, adding, disabling and changing accounts."""

import pytest
from sqlalchemy import func, select

from server.accounts.models import User
from server.audit.models import AuditEntry
from server.extensions import db

NEW_PASSWORD = "naya-password-1"


def _new_user(unit_id, role="volunteer", **overrides):
    return {
        "phone": "9700000001",
        "name": "नया साथी",
        "password": NEW_PASSWORD,
        "role": role,
        "unit_id": unit_id,
        **overrides,
    }


def _count_users():
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(User))


def test_admin_adds_a_person_who_can_then_log_in(make, session, client, login):
    g = make.geo()
    admin = make.user("admin")
    access, _, device_id = session(admin)

    response = client.post(
        "/api/users", headers=access, json=_new_user(g.k1.id, role="block_president")
    )

    assert response.status_code == 201
    created = response.json
    assert "password" not in created and "password_hash" not in created
    assert (created["phone"], created["role"], created["unit"]["id"]) == (
        "9700000001",
        "block_president",
        g.k1.id,
    )
    assert created["active"] is True
    assert login("9700000001", password=NEW_PASSWORD).status_code == 200
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "create"))
    assert (entry.user_id, entry.device_id, entry.record_id) == (
        admin.id,
        device_id,
        str(created["id"]),
    )
    assert entry.fields == ["name", "phone", "role", "unit_id"]
    assert db.session.get(User, created["id"]).created_by == admin.id


def test_block_president_adds_a_volunteer_for_a_booth_of_its_block(make, session, client):
    g = make.geo()
    access, _, _ = session(make.user("block_president", unit=g.k1))

    inside = client.post("/api/users", headers=access, json=_new_user(g.b2.id))
    other_block = client.post(
        "/api/users", headers=access, json=_new_user(g.b3.id, phone="9700000002")
    )

    assert inside.status_code == 201
    assert (other_block.status_code, other_block.json["error"]["code"]) == (403, "forbidden")


def test_a_duplicate_phone_is_refused_however_it_is_written(make, session, client):
    g = make.geo()
    make.user(phone="9700000001")
    access, _, _ = session(make.user("connect_centre"))
    before = _count_users()

    response = client.post(
        "/api/users", headers=access, json=_new_user(g.b1.id, phone="+91 97000-00001")
    )

    assert (response.status_code, response.json["error"]["code"]) == (409, "phone_taken")
    assert _count_users() == before


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"password": "short"}, "password"),
        ({"phone": "5123456789"}, "phone"),
        ({"name": "   "}, "name"),
        ({"role": "king"}, "role"),
        ({"unit_id": "1"}, "unit_id"),
        ({"unit_id": 999999}, "unit_id"),
        ({"surname": "x"}, "surname"),
    ],
    ids=[
        "short-password",
        "bad-phone",
        "blank-name",
        "bad-role",
        "unit-as-text",
        "no-unit",
        "unknown",
    ],
)
def test_new_person_validation_names_the_field_and_stores_nothing(
    make, session, client, overrides, field
):
    g = make.geo()
    access, _, _ = session(make.user("admin"))
    before = _count_users()

    response = client.post("/api/users", headers=access, json={**_new_user(g.b1.id), **overrides})

    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"
    assert list(response.json["error"]["fields"]) == [field]
    assert _count_users() == before


def test_role_must_match_the_unit_type(make, session, client):
    g = make.geo()
    access, _, _ = session(make.user("admin"))

    response = client.post("/api/users", headers=access, json=_new_user(g.k1.id, role="volunteer"))

    assert response.status_code == 422
    assert response.json["error"]["fields"]["unit_id"] == [
        "A volunteer's unit must be a booth, not a block."
    ]


def test_listing_is_paged_and_filtered(make, session, client):
    g = make.geo()
    access, _, _ = session(make.user("admin", name="Admin"))
    make.user("volunteer", unit=g.b1, name="अमित")
    make.user("volunteer", unit=g.b2, name="Bina")
    make.user("volunteer", unit=g.b4, name="Chandan", phone="9812345678")
    make.user("block_president", unit=g.k1, name="Dinesh")

    first = client.get("/api/users?per_page=2", headers=access).json
    assert (first["total"], first["pages"], len(first["items"])) == (5, 3, 2)
    third = client.get("/api/users?per_page=2&page=3", headers=access).json
    assert len(third["items"]) == 1

    def names(query):
        response = client.get(f"/api/users?{query}", headers=access)
        assert response.status_code == 200, response.json
        return sorted(u["name"] for u in response.json["items"])

    assert names("role=volunteer") == ["Bina", "Chandan", "अमित"]
    assert names(f"unit_id={g.k1.id}") == ["Bina", "Dinesh", "अमित"]
    assert names(f"unit_id={g.d2.id}") == ["Chandan"]
    assert names("q=अमि") == ["अमित"]
    assert names("q=bin") == ["Bina"]
    assert names("q=12345") == ["Chandan"]
    assert names("q=%25") == []


def test_listing_rejects_bad_arguments(make, session, client):
    access, _, _ = session(make.user("admin"))
    response = client.get("/api/users?per_page=500&role=king&colour=red", headers=access)
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"per_page", "role", "colour"}


def test_block_president_sees_only_the_volunteers_of_its_block(make, session, client):
    g = make.geo()
    access, _, _ = session(make.user("block_president", unit=g.k1, name="Me"))
    make.user("volunteer", unit=g.b1, name="Ours 1")
    make.user("volunteer", unit=g.b2, name="Ours 2")
    make.user("volunteer", unit=g.b3, name="Other block")
    make.user("block_president", unit=g.k1, name="Fellow president")

    items = client.get("/api/users", headers=access).json["items"]

    assert sorted(u["name"] for u in items) == ["Ours 1", "Ours 2"]


def test_disable_and_enable_are_audited(make, session, client):
    g = make.geo()
    access, _, _ = session(make.user("block_president", unit=g.k1))
    volunteer = make.user("volunteer", unit=g.b2)

    disabled = client.post(f"/api/users/{volunteer.id}/disable", headers=access)
    enabled = client.post(f"/api/users/{volunteer.id}/enable", headers=access)

    assert (disabled.status_code, disabled.json["active"]) == (200, False)
    assert (enabled.status_code, enabled.json["active"]) == (200, True)
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity == "user").order_by(AuditEntry.id)
    ).all()
    assert actions == ["disable", "enable"]


def test_nobody_disables_their_own_account(make, session, client):
    admin = make.user("admin")
    access, _, _ = session(admin)

    response = client.post(f"/api/users/{admin.id}/disable", headers=access)

    assert (response.status_code, response.json["error"]["code"]) == (403, "forbidden")
    assert client.get("/api/me", headers=access).status_code == 200


def test_moving_a_person_bumps_the_scope_version_and_renaming_does_not(make, session, client):
    g = make.geo()
    access, _, _ = session(make.user("connect_centre"))
    volunteer = make.user("volunteer", unit=g.b1)

    renamed = client.patch(f"/api/users/{volunteer.id}", headers=access, json={"name": "Ram"})
    db.session.expire_all()
    assert renamed.status_code == 200
    assert db.session.get(User, volunteer.id).scope_version == 1

    promoted = client.patch(
        f"/api/users/{volunteer.id}",
        headers=access,
        json={"role": "block_president", "unit_id": g.k2.id},
    )

    assert promoted.status_code == 200
    assert (promoted.json["role"], promoted.json["unit"]["id"]) == ("block_president", g.k2.id)
    db.session.expire_all()
    assert db.session.get(User, volunteer.id).scope_version == 2
    fields = db.session.scalars(
        select(AuditEntry.fields).where(AuditEntry.action == "update").order_by(AuditEntry.id)
    ).all()
    assert fields == [["name"], ["role", "unit_id"]]


def test_a_role_change_must_still_fit_the_unit(make, session, client):
    g = make.geo()
    access, _, _ = session(make.user("admin"))
    volunteer = make.user("volunteer", unit=g.b1)

    response = client.patch(
        f"/api/users/{volunteer.id}", headers=access, json={"role": "district_president"}
    )

    assert response.status_code == 422
    assert list(response.json["error"]["fields"]) == ["role"]
    db.session.rollback()
    assert db.session.get(User, volunteer.id).role == "volunteer"


def test_an_unknown_person_is_a_404(make, session, client):
    access, _, _ = session(make.user("admin"))
    for response in (
        client.post("/api/users/987654/disable", headers=access),
        client.patch("/api/users/987654", headers=access, json={"name": "x"}),
    ):
        assert (response.status_code, response.json["error"]["code"]) == (404, "not_found")


# Role ranks: volunteer < block_president < district_president < connect_centre < admin


def _people():
    db.session.rollback()
    db.session.expire_all()
    return sorted((u.id, u.role, u.unit_id, u.active) for u in db.session.query(User))


def test_the_connect_centre_has_no_admin_powers(make, session, client):
    g = make.geo()
    centre = make.user("connect_centre")
    admin = make.user("admin")
    access, _, _ = session(centre)
    before = _people()

    created = client.post("/api/users", headers=access, json=_new_user(g.state.id, role="admin"))
    promoted = client.patch(f"/api/users/{centre.id}", headers=access, json={"role": "admin"})
    disabled = client.post(f"/api/users/{admin.id}/disable", headers=access)
    renamed = client.patch(f"/api/users/{admin.id}", headers=access, json={"name": "x"})

    for response in (created, promoted, disabled, renamed):
        assert (response.status_code, response.json["error"]["code"]) == (403, "forbidden")
    assert list(created.json["error"]["fields"]) == ["role"]
    assert list(promoted.json["error"]["fields"]) == ["role"]
    assert _people() == before


def test_nobody_changes_their_own_role(make, session, client):
    admin = make.user("admin")
    make.user("admin")  # not the last admin: the refusal is about changing oneself
    access, _, _ = session(admin)

    response = client.patch(
        f"/api/users/{admin.id}", headers=access, json={"role": "connect_centre"}
    )

    assert (response.status_code, response.json["error"]["code"]) == (403, "forbidden")
    assert list(response.json["error"]["fields"]) == ["role"]
    db.session.expire_all()
    assert db.session.get(User, admin.id).role == "admin"
    # Their own name is still theirs to change.
    renamed = client.patch(f"/api/users/{admin.id}", headers=access, json={"name": "नया नाम"})
    assert renamed.status_code == 200


def test_a_role_up_to_ones_own_may_be_given(make, session, client):
    g = make.geo()
    centre = make.user("connect_centre")
    access, _, _ = session(centre)
    volunteer = make.user("volunteer", unit=g.b1)

    added = client.post(
        "/api/users", headers=access, json=_new_user(g.state.id, role="connect_centre")
    )
    promoted = client.patch(
        f"/api/users/{volunteer.id}",
        headers=access,
        json={"role": "district_president", "unit_id": g.d1.id},
    )

    assert added.status_code == 201, added.json
    assert promoted.status_code == 200, promoted.json


def test_an_admin_disables_and_demotes_another_admin(make, session, client):
    g = make.geo()
    access, _, _ = session(make.user("admin"))
    second, third = make.user("admin"), make.user("admin")

    disabled = client.post(f"/api/users/{second.id}/disable", headers=access)
    demoted = client.patch(
        f"/api/users/{third.id}",
        headers=access,
        json={"role": "district_president", "unit_id": g.d1.id},
    )

    assert disabled.status_code == 200, disabled.json
    assert demoted.status_code == 200, demoted.json
