"""GET and PATCH /api/me: who the person is, where, on which device, and their own settings."""

from sqlalchemy import select

from server.accounts.models import User
from server.audit.models import AuditEntry
from server.extensions import db


def test_me_shows_the_person_the_unit_with_its_ancestors_and_the_device(make, session, client):
    g = make.geo()
    user = make.user("volunteer", phone="9876500001", name="Ravi")
    access, _, device_id = session(user)

    response = client.get("/api/me", headers=access)

    assert response.status_code == 200
    me = response.json
    assert {k: me["user"][k] for k in ("id", "name", "phone", "role", "language")} == {
        "id": user.id,
        "name": "Ravi",
        "phone": "9876500001",
        "role": "volunteer",
        "language": "hi",
    }
    unit = me["user"]["unit"]
    assert (unit["id"], unit["type"], unit["name_en"]) == (g.b1.id, "booth", "Booth 1")
    assert [(a["type"], a["name"]) for a in unit["ancestors"]] == [
        ("state", "झारखंड"),
        ("district", "राँची"),
        ("block", "काँके"),
        ("panchayat", "Pithoria"),
    ]
    assert me["device"]["id"] == device_id
    assert me["device"]["revoked_at"] is None


def test_a_state_role_has_no_ancestors(make, session, client):
    access, _, _ = session(make.user("connect_centre"))
    unit = client.get("/api/me", headers=access).json["user"]["unit"]
    assert (unit["type"], unit["ancestors"]) == ("state", [])


def test_a_person_changes_their_own_language_and_name(make, session, client):
    user = make.user()
    access, _, device_id = session(user)

    response = client.patch("/api/me", headers=access, json={"language": "en", "name": "  सीता "})

    assert response.status_code == 200
    assert (response.json["user"]["language"], response.json["user"]["name"]) == ("en", "सीता")
    db.session.expire_all()
    assert db.session.get(User, user.id).language == "en"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "update"))
    assert (entry.record_id, entry.device_id, entry.fields) == (
        str(user.id),
        device_id,
        ["language", "name"],
    )


def test_a_person_cannot_change_their_own_role_or_unit(make, session, client):
    user = make.user()
    access, _, _ = session(user)

    response = client.patch(
        "/api/me", headers=access, json={"role": "admin", "unit_id": make.geo().state.id}
    )

    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"role", "unit_id"}
    db.session.rollback()
    assert db.session.get(User, user.id).role == "volunteer"


def test_me_settings_are_validated_per_field(make, session, client):
    access, _, _ = session(make.user())

    response = client.patch("/api/me", headers=access, json={"language": "fr", "name": ""})

    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"language", "name"}


def test_me_gives_the_app_the_role_lists_it_would_otherwise_copy(make, session, client):
    access, _, _ = session(make.user())

    lists = client.get("/api/me", headers=access).json["role_lists"]
    after_a_change = client.patch("/api/me", headers=access, json={"language": "en"})

    assert lists == {
        "reviewers": ["block_president", "district_president", "connect_centre", "admin"],
        "leaders": ["block_president", "district_president", "connect_centre", "admin"],
        "full_personal_data": ["volunteer", "block_president"],
    }
    assert after_a_change.json["role_lists"] == lists


def test_the_openapi_document_declares_the_role_lists_of_me(client):
    spec = client.get("/api/openapi.json").json
    answer = spec["paths"]["/api/me"]["get"]["responses"]["200"]["content"]["application/json"]
    schemas = spec["components"]["schemas"]
    me = schemas[answer["schema"]["$ref"].rsplit("/", 1)[-1]]
    assert "role_lists" in me["required"]
    lists = schemas[me["properties"]["role_lists"]["$ref"].rsplit("/", 1)[-1]]
    assert set(lists["required"]) == {"reviewers", "leaders", "full_personal_data"}
    assert lists["properties"]["reviewers"]["items"]["enum"] == [
        "volunteer",
        "block_president",
        "district_president",
        "connect_centre",
        "admin",
    ]
