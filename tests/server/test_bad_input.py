"""Bad input gets the one error shape with the field named, and stored data is unchanged."""

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.models import AppliedMutation, AuditEntry, Grievance, Member, RecordChange
from tests.server.syncing.phone import Phone, member_fields, new_id

TABLES = (Member, Grievance, RecordChange, AuditEntry)


def counts():
    return {m.__tablename__: db.session.scalar(select(func.count()).select_from(m)) for m in TABLES}


MEMBER_CASES = [
    ("phone", "12345", "10-digit mobile"),
    ("phone", "5876543210", "10-digit mobile"),
    ("phone", 9876543210, "Not a valid string"),
    ("epic", "AB12345678", "3 letters and 7 digits"),
    ("epic", "ABCD123456", "3 letters and 7 digits"),
    ("age", 17, "18 to 35"),
    ("age", 36, "18 to 35"),
    ("age", "20", "Not a valid integer"),
    ("age", 20.5, "Not a valid integer"),
    ("name", "", "required"),
    ("name", "   ", "required"),
    ("name", "क" * 121, "At most 120"),
    ("notes", "x" * 1001, "At most 1000"),
    ("gender", "m", "Must be one of"),
    ("skills", ["dancing"], "Must be one of"),
    ("skills", "speaker", "Not a valid list"),
    ("status", "done", "Must be one of"),
    ("consent", "true", "Not a valid boolean"),
    ("booth_id", "1", "Not a valid integer"),
    ("caste", "x", "Unknown field"),
]


@pytest.mark.parametrize(("field", "value", "message"), MEMBER_CASES)
def test_bad_member_values_are_rejected_with_the_field_named(client, make, field, value, message):
    g = make.geo()
    phone = Phone(client, make, make.user("volunteer", g.b1))
    before = counts()
    result = phone.send("member", new_id(), {**member_fields(g.b1), field: value})
    assert result["status"] == "rejected"
    assert result["error"]["code"] == "validation_error"
    assert list(result["error"]["fields"]) == [field]
    assert message in str(result["error"]["fields"][field])
    assert counts() == before
    # The seq is consumed all the same, and the rejection is remembered for a retry.
    assert db.session.get(AppliedMutation, (phone.device_id, 1)).status == "rejected"


GRIEVANCE_CASES = [
    ("category", "roads", "Must be one of"),
    ("description", "", "required"),
    ("description", "x" * 5001, "At most 5000"),
    ("complainant_phone", "99999", "10-digit mobile"),
    ("against", "x" * 201, "At most 200"),
    ("status", "open", "Must be one of"),
    ("created_at", 1732300000, "Unix milliseconds"),
    ("ref_no", "RAN-1", "Unknown field"),
]


@pytest.mark.parametrize(("field", "value", "message"), GRIEVANCE_CASES)
def test_bad_grievance_values_are_rejected_with_the_field_named(
    client, make, field, value, message
):
    g = make.geo()
    phone = Phone(client, make, make.user("volunteer", g.b1))
    before = counts()
    fields = {"booth_id": g.b1.id, "category": "road", "description": "सड़क टूटी", field: value}
    result = phone.send("grievance", new_id(), fields)
    assert result["status"] == "rejected"
    assert list(result["error"]["fields"]) == [field]
    assert message in " ".join(map(str, result["error"]["fields"][field]))
    assert counts() == before


def test_a_missing_required_field_is_named(client, make):
    g = make.geo()
    phone = Phone(client, make, make.user("volunteer", g.b1))
    result = phone.send("member", new_id(), {"booth_id": g.b1.id, "name": "राम"})
    assert result["error"]["fields"] == {
        f: ["This is required."] for f in ("age", "gender", "consent")
    }


def test_a_member_needs_consent(client, make):
    g = make.geo()
    phone = Phone(client, make, make.user("volunteer", g.b1))
    result = phone.send("member", new_id(), member_fields(g.b1, consent=False))
    assert result["error"]["code"] == "consent_required"
    assert "consent" in result["error"]["fields"]


def test_phone_prefixes_are_stripped_and_epic_upper_cased(client, make):
    g = make.geo()
    phone = Phone(client, make, make.user("volunteer", g.b1))
    result = phone.send(
        "member", new_id(), member_fields(g.b1, phone="+91 98765-43210", epic="abc1234567")
    )
    assert result["record"]["phone"] == "9876543210"
    assert result["record"]["epic"] == "ABC1234567"
    result = phone.send("member", new_id(), member_fields(g.b1, phone="09876543210"))
    assert result["record"]["phone"] == "9876543210"


def test_hindi_text_is_stored_nfc_normalised(client, make):
    g = make.geo()
    phone = Phone(client, make, make.user("volunteer", g.b1))
    decomposed = "मुन\u093cा"  # न + nukta, as some keyboards type it: NFC makes it ऩ
    result = phone.send("member", new_id(), member_fields(g.b1, name=decomposed))
    assert result["record"]["name"] == "मु\u0929ा"


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        (b"{not json", 400, "malformed_json", None),
        (b"[]", 422, "validation_error", "_body"),
        (
            b'{"device_id": "x", "schema_version": 1, "mutations": []}',
            422,
            "validation_error",
            "device_id",
        ),
        (b'{"schema_version": "1", "mutations": []}', 422, "validation_error", "schema_version"),
        (
            b'{"device_id": "%s", "schema_version": 1, "mutations": [{"seq": "one"}]}',
            422,
            "validation_error",
            "mutations",
        ),
        (
            b'{"device_id": "%s", "schema_version": 1, "mutations": [], "extra": 1}',
            422,
            "validation_error",
            "extra",
        ),
    ],
)
def test_malformed_push_bodies_get_the_error_shape(client, make, body, status, code, field):
    g = make.geo()
    phone = Phone(client, make, make.user("volunteer", g.b1))
    if b"%s" in body:
        body = body % phone.device_id.encode()
    response = client.post(
        "/api/sync/push", data=body, headers={**phone.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == status
    error = response.json["error"]
    assert error["code"] == code
    assert set(error) == {"code", "message", "fields"}
    if field:
        assert field in error["fields"]


def test_a_huge_body_is_413_in_the_error_shape(client, make):
    g = make.geo()
    phone = Phone(client, make, make.user("volunteer", g.b1))
    response = client.post(
        "/api/sync/push",
        data=b"x" * (1024 * 1024 + 1),
        headers={**phone.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json["error"]["code"] == "too_large"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"limit": "x"}, "limit"),
        ({"since": "1"}, "since"),
    ],
)
def test_bad_pull_arguments_are_named(client, make, query, field):
    g = make.geo()
    phone = Phone(client, make, make.user("volunteer", g.b1))
    response = client.get("/api/sync/pull", query_string=query, headers=phone.headers)
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]
