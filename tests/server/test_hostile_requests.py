"""Malformed requests are a 4xx in the one error shape, never a 500: forged pull cursors,
integers beyond the database's columns in query strings and paths, NUL and lone
surrogates in bodies, query strings and paths, deeply nested JSON (before login too); a
value the database still refuses is a 422 `invalid_value`. And every /api answer says
`Cache-Control: no-store` and `nosniff`; the app's page has one charset."""

import base64
import gzip
import json
import logging
import uuid

import pytest
from sqlalchemy.exc import DataError

from server.accounts.models import Device
from server.extensions import db
from sync.protocol import decode_cursor
from tests.factories import PASSWORD
from tests.server.syncing.phone import Phone, member_fields, new_id


def post_json(client, path, body, **kw):
    """POST `body` as ASCII-escaped JSON (a lone surrogate travels as \\ud800)."""
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(path, data=data, content_type="application/json", **kw)


def assert_error(response, status, code=None):
    assert response.status_code == status, (response.status_code, response.get_data()[:300])
    error = response.json["error"]
    assert set(error) == {"code", "message", "fields"}
    if code:
        assert error["code"] == code, error
    return error


# ---------------------------------------------------------------- pull cursors


def cursor_of(state) -> str:
    raw = state if isinstance(state, bytes) else json.dumps(state).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def forged_states(user_id, identity):
    ok = {"v": 1, "lo": 0, "hi": None, "after": None, "u": user_id, "sv": 1, "db": identity}
    after = [1, "member", str(uuid.uuid4()), "b1"]
    return [
        {**ok, "hi": "abc"},
        {**ok, "hi": 1e30},
        {**ok, "hi": 2**64},
        {**ok, "lo": 2**70},
        {**ok, "lo": -1},
        {**ok, "lo": True},
        {**ok, "lo": 5, "hi": 2},
        {**ok, "after": 5},
        {**ok, "hi": 10, "after": 5},
        {**ok, "hi": 10, "after": [1, 2]},
        {**ok, "hi": 10, "after": [2**64, "member", after[2], "b1"]},
        {**ok, "hi": 10, "after": [1, "member\x00", after[2], "b1"]},
        {**ok, "hi": 10, "after": [1, "member", "x\x00", "b1"]},
        {**ok, "hi": 10, "after": [1, "member", after[2], "b1\ud800"]},
        {**ok, "hi": 10, "after": [1, "member", after[2], {"x": 1}]},
        {**ok, "hi": None, "after": after},
        {**ok, "u": "1"},
        {**ok, "db": 5},
        {**ok, "db": "1:2:3:4"},
        {**ok, "db": identity + "\n"},
        {**ok, "sv": 2**40},
        {**ok, "v": 2},
        {k: v for k, v in ok.items() if k != "hi"},
        {**ok, "extra": 1},
        [1],
        "x",
        None,
        b"\xff\xfe not json",
        b"[" * 5000 + b"]" * 5000,
    ]


def test_a_forged_cursor_answers_reset_and_the_phone_starts_again(client, make):
    g = make.geo()
    user = make.user("volunteer", g.b1)
    phone = Phone(client, make, user)
    phone.send("member", new_id(), member_fields(g.b1))
    identity = decode_cursor(client.get("/api/sync/pull", headers=phone.headers).json["cursor"])
    assert identity is not None
    cursors = [cursor_of(state) for state in forged_states(user.id, identity["db"])]
    cursors += ["abc", "!!!", "é", "A" * 5000]
    for cursor in cursors:
        response = client.get(
            "/api/sync/pull", query_string={"cursor": cursor}, headers=phone.headers
        )
        assert response.status_code == 200, (cursor, response.get_data()[:300])
        assert response.json["reset"] is True, cursor
        assert response.json["changes"] == []
        assert response.json["cursor"] == ""
    # From an empty cursor everything comes, and the cursor it gives is accepted.
    first = client.get("/api/sync/pull", headers=phone.headers).json
    assert first["reset"] is False and len(first["changes"]) == 1
    again = client.get(
        "/api/sync/pull", query_string={"cursor": first["cursor"]}, headers=phone.headers
    ).json
    assert again["reset"] is False and again["changes"] == []


def test_a_cursor_with_nul_or_a_huge_limit_is_a_422(client, make):
    g = make.geo()
    phone = Phone(client, make, make.user("volunteer", g.b1))
    for query in ("cursor=a%00b", "limit=100000000000000000000", "limit=1e3"):
        response = client.get(f"/api/sync/pull?{query}", headers=phone.headers)
        assert_error(response, 422, "validation_error")


# ---------------------------------------------------------------- query strings and paths


@pytest.fixture
def admin_headers(make):
    make.geo()
    return make.headers(make.user("admin"))


@pytest.mark.parametrize(
    "path",
    [
        "/api/members?page=100000000000000000000",
        "/api/members?page=2147483648",
        "/api/members?booth_id=9223372036854775808",
        "/api/members?block_id=99999999999",
        "/api/members?booth_id=-99999999999",
        "/api/grievances?page=100000000000000000000",
        "/api/grievances?booth_id=9223372036854775808",
        "/api/grievances?block_id=99999999999",
        "/api/users?unit_id=99999999999",
        "/api/users?page=100000000000000000000",
        "/api/devices?user_id=99999999999",
    ],
)
def test_an_integer_beyond_its_column_in_a_query_string_is_a_422(client, admin_headers, path):
    error = assert_error(client.get(path, headers=admin_headers), 422, "validation_error")
    assert path.split("?")[1].split("=")[0] in error["fields"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/units/99999999999999999999",
        "/api/units/2147483648",
        "/api/units/99999999999",
        "/api/users/99999999999/disable",
        "/api/users/2147483648",
    ],
)
def test_an_integer_beyond_its_column_in_a_path_is_a_404(client, admin_headers, path):
    method = client.post if path.endswith("disable") else client.patch
    if path.startswith("/api/units"):
        method = client.get
    kw = {} if method is client.get else {"json": {"name": "x"}}
    assert_error(method(path, headers=admin_headers, **kw), 404, "not_found")


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/members?q=a%00b", "q"),
        ("/api/grievances?q=%00", "q"),
        ("/api/users?q=98%00", "q"),
        ("/api/members?status=pending%00", "status"),
        ("/api/members?a%00=1", "a\\x00"),
        (f"/api/members/{uuid.uuid4()}%00", "member_id"),
        ("/api/grievances/%00", "grievance_id"),
        ("/api/devices/%00/revoke", "device_id"),
    ],
)
def test_nul_in_a_query_string_or_path_is_a_422(client, admin_headers, path, field):
    method = client.post if path.endswith("revoke") else client.get
    error = assert_error(method(path, headers=admin_headers), 422, "validation_error")
    assert list(error["fields"]) == [field]


def login_body(**kw):
    return {
        "phone": "9000000001",
        "password": PASSWORD,
        "device_id": str(uuid.uuid4()),
        "device_name": "Redmi",
        **kw,
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"device_name": "Redmi\x00"}, "device_name"),
        ({"device_name": "\ud800"}, "device_name"),
        ({"password": "booth-demo\ud800"}, "password"),
        ({"password": "\x00" * 9}, "password"),
        ({"phone": "9000000001\x00"}, "phone"),
        ({"device_id": str(uuid.uuid4()) + "\n"}, "device_id"),
        ({"x\x00": 1}, "x\\x00"),
    ],
)
def test_hostile_text_at_login_is_a_422_before_any_check(client, make, change, field):
    make.user("volunteer", phone="9000000001")
    error = assert_error(post_json(client, "/api/auth/login", login_body(**change)), 422)
    assert field in error["fields"], error


def test_hostile_text_in_other_bodies_is_a_422(client, make):
    g = make.geo()
    admin = make.user("admin")
    headers = make.headers(admin)
    cases = [
        ("PATCH", "/api/me", {"name": "नाम\x00"}, "name"),
        ("PATCH", "/api/me", {"name": "\udfff"}, "name"),
        (
            "POST",
            "/api/users",
            {
                "phone": "9800000001",
                "name": "x\x00",
                "password": "long enough",
                "role": "volunteer",
                "unit_id": g.b1.id,
            },
            "name",
        ),
        ("PATCH", f"/api/users/{admin.id}", {"unit_id": 2**40}, "unit_id"),
        ("PATCH", f"/api/users/{admin.id}", {"unit_id": 2**63}, "unit_id"),
        (
            "POST",
            "/api/users",
            {
                "phone": "9800000001",
                "name": "x",
                "password": "long enough",
                "role": "volunteer",
                "unit_id": 2**31,
            },
            "unit_id",
        ),
    ]
    for method, path, body, field in cases:
        response = client.open(
            path,
            method=method,
            data=json.dumps(body),
            content_type="application/json",
            headers=headers,
        )
        error = assert_error(response, 422)
        assert field in error["fields"], (path, body, error)


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"phone": ' + "[" * 33 + "]" * 33 + "}",
        '{"a": ' + '{"a": ' * 40 + "1" + "}" * 41,
        '{"phone": NaN}',
        '{"phone": Infinity}',
        '{"phone": "\\ud800" ',
        b'{"phone": "\xff"}',
    ],
)
def test_deep_or_broken_json_is_a_400_before_login(client, body):
    assert_error(post_json(client, "/api/auth/login", body), 400, "malformed_json")


def test_deep_json_is_refused_gzipped_and_in_a_push(client, make):
    g = make.geo()
    phone = Phone(client, make, make.user("volunteer", g.b1))
    deep = ("[" * 50_000 + "]" * 50_000).encode()
    response = client.post(
        "/api/auth/login",
        data=gzip.compress(deep),
        content_type="application/json",
        headers={"Content-Encoding": "gzip"},
    )
    assert_error(response, 400, "malformed_json")
    nested = json.loads("[" * 30 + "]" * 30)
    m = phone.mutation("member", new_id(), member_fields(g.b1, notes={"deep": [[nested]]}))
    assert_error(phone.push_raw([m]), 400, "malformed_json")
    # Within the limit, junk is a rejection of that mutation only.
    phone.seq = 0  # the refused push consumed no seq
    m = phone.mutation("member", new_id(), member_fields(g.b1, notes=[[[["x"]]]]))
    assert phone.push_raw([m]).json["results"][0]["status"] == "rejected"


def test_nesting_up_to_the_limit_is_parsed(client):
    body = '{"phone": ' + "[" * 31 + "]" * 31 + "}"
    error = assert_error(post_json(client, "/api/auth/login", body), 422, "validation_error")
    assert "phone" in error["fields"]


# ---------------------------------------------------------------- the database's net


def test_a_value_the_database_refuses_is_a_422_and_logged(client, make, monkeypatch, caplog):
    """The net under validation: should a value slip past it, the database's DataError
    becomes 422 `invalid_value` (logged as a warning), not a 500."""
    from server.roster import services

    def refused(*_a, **_kw):
        raise DataError("SELECT 1", {}, Exception("integer out of range"))

    monkeypatch.setattr(services, "list_members", refused)
    g = make.geo()
    headers = make.headers(make.user("volunteer", g.b1))
    with caplog.at_level(logging.WARNING, logger="server.errors"):
        response = client.get("/api/members", headers=headers)
    assert_error(response, 422, "invalid_value")
    assert "integer out of range" in caplog.text
    assert response.headers["Cache-Control"] == "no-store"
    # The session is usable again afterwards.
    assert db.session.query(Device).count() == 1


# ---------------------------------------------------------------- headers (finding 9)


def test_every_api_answer_is_not_cacheable_and_not_sniffable(client, make):
    g = make.geo()
    phone = Phone(client, make, make.user("volunteer", g.b1))
    answers = [
        client.get("/api/me", headers=phone.headers),  # 200
        client.get("/api/sync/pull", headers=phone.headers, environ_base={}),
        phone.push_raw([phone.mutation("member", new_id(), member_fields(g.b1))]),
        client.get("/api/me"),  # 401
        client.get("/api/nothing-here"),  # 404
        client.delete("/api/openapi.json"),  # 405
        client.get("/api/openapi.json"),
        post_json(client, "/api/auth/login", "{"),  # 400
        post_json(client, "/api/auth/login", {"phone": "1"}),  # 422
        client.get("/api/sync/pull", headers={**phone.headers, "Accept-Encoding": "gzip"}),
    ]
    for response in answers:
        assert response.headers.get("Cache-Control") == "no-store", response.status_code
        assert response.headers.get("X-Content-Type-Options") == "nosniff", response.status_code


@pytest.fixture
def dist(app, tmp_path, monkeypatch):
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text('<!doctype html><html lang="hi"><title>app</title>')
    (tmp_path / "assets" / "app-ABCDEFGH.js").write_text("console.log(1)")
    (tmp_path / "assets" / "app-ABCDEFGH.css").write_text("body{}")
    monkeypatch.setitem(app.config, "PWA_DIST", str(tmp_path))
    return tmp_path


def test_the_app_is_served_with_one_charset(client, dist):
    for path, content_type in (
        ("/", "text/html; charset=utf-8"),
        ("/members/new", "text/html; charset=utf-8"),
        ("/assets/app-ABCDEFGH.js", "text/javascript; charset=utf-8"),
        ("/assets/app-ABCDEFGH.css", "text/css; charset=utf-8"),
    ):
        response = client.get(path)
        response.get_data()
        response.close()
        assert response.headers["Content-Type"] == content_type, path
