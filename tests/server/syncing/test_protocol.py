"""The wire contract around the rules: seq, retries, limits, versions, gzip, cursors."""

import gzip
import json

from server.accounts.models import User
from server.extensions import db
from tests.server.syncing.phone import Phone, member_fields, new_id


def test_a_gap_in_seq_is_refused_with_the_expected_seq(client, make):
    g = make.geo()
    phone = Phone(client, make, make.user("volunteer", g.b1))
    phone.send("member", new_id(), member_fields(g.b1))
    phone.seq += 2  # two mutations lost from the outbox
    response = phone.push_raw([phone.mutation("member", new_id(), member_fields(g.b1))])
    assert response.status_code == 409
    assert response.json["error"]["code"] == "seq_gap"
    assert response.json["error"]["fields"] == {"expected": 2}


def test_a_retried_batch_is_answered_duplicate_and_applied_once(client, make):
    g = make.geo()
    phone = Phone(client, make, make.user("volunteer", g.b1))
    batch = [
        phone.mutation("member", new_id(), member_fields(g.b1, name=f"N{i}")) for i in range(3)
    ]
    first = phone.push(*batch)
    again = phone.push(*batch)
    assert [r["status"] for r in first["results"]] == ["applied"] * 3
    assert [r["status"] for r in again["results"]] == ["duplicate"] * 3
    assert again["results"][0]["record"]["name"] == "N0"
    assert again["last_seq"] == 3
    phone.pull()
    assert len(phone.records("member")) == 3


def test_a_rejected_mutation_stays_rejected_on_retry_and_blocks_nothing(client, make):
    g = make.geo()
    phone = Phone(client, make, make.user("volunteer", g.b1))
    bad = phone.mutation("member", new_id(), member_fields(g.b1, age=17))
    good = phone.mutation("member", new_id(), member_fields(g.b1))
    answer = phone.push(bad, good)
    assert [r["status"] for r in answer["results"]] == ["rejected", "applied"]
    assert answer["results"][0]["error"]["code"] == "validation_error"
    assert "age" in answer["results"][0]["error"]["fields"]
    retry = phone.push(bad, good)
    assert [r["status"] for r in retry["results"]] == ["rejected", "duplicate"]
    assert retry["results"][0]["error"]["fields"] == answer["results"][0]["error"]["fields"]


def test_malformed_mutations_are_rejected_one_by_one(client, make):
    g = make.geo()
    phone = Phone(client, make, make.user("volunteer", g.b1))
    m = phone.mutation("member", "not-a-uuid", member_fields(g.b1), hlc="yesterday")
    m["entity"] = "voter"
    result = phone.push(m)["results"][0]
    assert result["status"] == "rejected"
    assert set(result["error"]["fields"]) == {"entity", "id", "hlc"}
    unknown = phone.send("member", new_id(), {**member_fields(g.b1), "caste": "x"})
    assert unknown["error"]["fields"] == {"caste": ["Unknown field."]}


def test_too_many_mutations_is_413(client, make):
    g = make.geo()
    phone = Phone(client, make, make.user("volunteer", g.b1))
    batch = [phone.mutation("member", new_id(), member_fields(g.b1)) for _ in range(501)]
    response = phone.push_raw(batch)
    assert response.status_code == 413
    assert response.json["error"]["code"] == "too_large"


def test_a_body_over_one_mebibyte_is_413_even_gzipped(client, make):
    g = make.geo()
    phone = Phone(client, make, make.user("volunteer", g.b1))
    body = {
        "device_id": phone.device_id,
        "schema_version": 1,
        "mutations": [phone.mutation("member", new_id(), member_fields(g.b1, notes="क" * 400_000))],
    }
    raw = gzip.compress(json.dumps(body, ensure_ascii=False).encode())
    response = client.post(
        "/api/sync/push",
        data=raw,
        headers={**phone.headers, "Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert response.status_code == 413
    assert response.json["error"]["code"] == "too_large"


def test_an_unknown_schema_version_is_client_outdated(client, make):
    g = make.geo()
    phone = Phone(client, make, make.user("volunteer", g.b1))
    response = phone.push_raw([], schema_version=2)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "client_outdated"


def test_gzip_both_ways(client, make):
    g = make.geo()
    phone = Phone(client, make, make.user("volunteer", g.b1))
    batch = [
        phone.mutation("member", new_id(), member_fields(g.b1, name=f"सदस्य {i}")) for i in range(15)
    ]
    body = {"device_id": phone.device_id, "schema_version": 1, "mutations": batch}
    response = client.post(
        "/api/sync/push",
        data=gzip.compress(json.dumps(body).encode()),
        headers={
            **phone.headers,
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
            "Accept-Encoding": "gzip",
        },
    )
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    answer = json.loads(gzip.decompress(response.data))
    assert answer["last_seq"] == 15
    pulled = client.get("/api/sync/pull", headers={**phone.headers, "Accept-Encoding": "gzip"})
    assert pulled.headers["Content-Encoding"] == "gzip"
    assert len(json.loads(gzip.decompress(pulled.data))["changes"]) == 15


def test_pull_pages_in_order_and_reports_last_seq(client, make):
    g = make.geo()
    phone = Phone(client, make, make.user("volunteer", g.b1))
    ids = [new_id() for _ in range(7)]
    phone.push(*[phone.mutation("member", i, member_fields(g.b1)) for i in ids])
    reader = Phone(client, make, make.user("volunteer", g.b1))
    answer = reader.client.get(
        "/api/sync/pull", query_string={"limit": 3}, headers=reader.headers
    ).json
    assert answer["has_more"] is True
    assert len(answer["changes"]) == 3
    reader.pull(limit=3)
    assert set(reader.records("member")) == set(ids)
    assert phone.pull()["last_seq"] == 7
    # Nothing new: an empty page with the same position.
    assert reader.pull()["changes"] == []


def test_a_changed_scope_or_a_strange_cursor_resets(client, make):
    g = make.geo()
    user = make.user("volunteer", g.b1)
    phone = Phone(client, make, user)
    phone.send("member", new_id(), member_fields(g.b1))
    phone.pull()
    garbled = client.get(
        "/api/sync/pull", query_string={"cursor": "garbage"}, headers=phone.headers
    ).json
    assert garbled["reset"] is True
    db.session.get(User, user.id).unit_id = g.b2.id
    db.session.get(User, user.id).scope_version += 1
    db.session.commit()
    answer = client.get(
        "/api/sync/pull", query_string={"cursor": phone.cursor}, headers=phone.headers
    ).json
    assert answer["reset"] is True
    phone.pull()
    assert phone.records("member") == {}


def test_a_record_moved_out_of_scope_is_removed_from_the_phone(client, make):
    g = make.geo()
    volunteer = Phone(client, make, make.user("volunteer", g.b1))
    president = Phone(client, make, make.user("block_president", g.k1))
    member_id = new_id()
    volunteer.send("member", member_id, member_fields(g.b1))
    volunteer.pull()
    president.pull()
    moved = president.send("member", member_id, {"booth_id": g.b2.id}, base=1)
    assert moved["record"]["booth_id"] == g.b2.id
    volunteer.pull()
    assert member_id not in volunteer.records("member")
    president.pull()
    assert president.records("member")[member_id]["booth_id"] == g.b2.id


def test_another_devices_outbox_is_refused(client, make):
    g = make.geo()
    phone = Phone(client, make, make.user("volunteer", g.b1))
    response = phone.push_raw([], device_id=new_id())
    assert response.status_code == 403
    assert response.json["error"]["code"] == "device_mismatch"


def test_push_needs_a_login(client):
    response = client.post("/api/sync/push", json={})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
