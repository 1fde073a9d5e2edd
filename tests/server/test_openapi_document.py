"""/api/openapi.json declares the constraints the server checks, so clients and the API
fuzzer (tests/fuzz) can trust it: patterns, formats, lengths, enums, integer ranges, typed
path parameters, the answers of push and pull (real answers validate against them), and
the error shape."""

import jsonschema_rs
import pytest

from server.ranges import INT32_MAX, INT64_MAX
from tests.server.syncing.phone import Phone, member_fields, new_id


@pytest.fixture
def spec(client):
    answer = client.get("/api/openapi.json")
    assert answer.status_code == 200
    return answer.get_json()


def resolve(spec, schema):
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def body_schema(spec, path, method="post"):
    content = spec["paths"][path][method]["requestBody"]["content"]["application/json"]
    return resolve(spec, content["schema"])


def answer_schema(spec, path, method, status="200"):
    content = spec["paths"][path][method]["responses"][status]["content"]["application/json"]
    return resolve(spec, content["schema"])


def walk(node, where=""):
    """Every schema object in the document, with where it is."""
    if isinstance(node, dict):
        if node.get("type") == "integer" or (
            isinstance(node.get("type"), list) and "integer" in node["type"]
        ):
            yield where, node
        for key, value in node.items():
            yield from walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk(value, f"{where}/{i}")


def test_every_integer_has_a_range_a_column_can_hold(spec):
    integers = list(walk(spec))
    assert len(integers) > 50
    for where, schema in integers:
        assert "minimum" in schema and "maximum" in schema, where
        assert -(2**63) <= schema["minimum"] <= schema["maximum"] <= INT64_MAX, where


def test_query_ids_and_pages_have_the_ranges_the_server_checks(spec):
    params = {p["name"]: p["schema"] for p in spec["paths"]["/api/members"]["get"]["parameters"]}
    assert (params["booth_id"]["minimum"], params["booth_id"]["maximum"]) == (1, INT32_MAX)
    assert (params["block_id"]["minimum"], params["block_id"]["maximum"]) == (1, INT32_MAX)
    assert (params["page"]["minimum"], params["page"]["maximum"]) == (1, INT32_MAX)
    assert (params["per_page"]["minimum"], params["per_page"]["maximum"]) == (1, 200)


def test_path_parameters_are_typed(spec):
    [unit_id] = spec["paths"]["/api/units/{unit_id}"]["parameters"]
    assert unit_id["schema"] == {"type": "integer", "minimum": 1, "maximum": INT32_MAX}
    [member_id] = spec["paths"]["/api/members/{member_id}"]["parameters"]
    assert member_id["schema"]["format"] == "uuid"
    assert member_id["schema"]["pattern"].startswith("^[0-9a-fA-F]{8}-")


def test_login_declares_phone_uuid_and_lengths(spec):
    login = body_schema(spec, "/api/auth/login")
    props = login["properties"]
    assert props["phone"]["pattern"] == r"^(\+91|0)?[6-9][0-9]{9}$"
    assert props["device_id"]["format"] == "uuid"
    assert props["device_name"]["maxLength"] == 120
    assert props["password"]["maxLength"] == 128
    assert set(login["required"]) == {"phone", "password", "device_id"}
    assert login["additionalProperties"] is False


def test_new_person_declares_enums_and_lengths(spec):
    props = body_schema(spec, "/api/users")["properties"]
    assert props["role"]["enum"] == [
        "volunteer",
        "block_president",
        "district_president",
        "connect_centre",
        "admin",
    ]
    assert (props["name"]["minLength"], props["name"]["maxLength"]) == (1, 120)
    assert (props["password"]["minLength"], props["password"]["maxLength"]) == (8, 128)
    assert (props["unit_id"]["minimum"], props["unit_id"]["maximum"]) == (1, INT32_MAX)


def test_push_body_declares_each_entitys_mutation(spec):
    push = body_schema(spec, "/api/sync/push")
    props = push["properties"]
    assert props["schema_version"]["enum"] == [1]
    assert props["device_id"]["format"] == "uuid"
    assert props["mutations"]["maxItems"] == 500
    variants = [resolve(spec, v) for v in props["mutations"]["items"]["oneOf"]]
    entities = [v["properties"]["entity"]["enum"] for v in variants]
    assert entities == [
        ["member"],
        ["grievance"],
        ["grievance_note"],
        ["meeting"],
        ["rsvp"],
        ["conflict"],
    ]
    member = variants[0]
    assert member["properties"]["op"]["enum"] == ["upsert", "delete"]
    assert member["properties"]["seq"]["minimum"] == 1
    assert member["properties"]["hlc"]["pattern"].startswith("^[0-9]{13}-")
    fields = resolve(spec, member["properties"]["fields"])["properties"]
    assert (fields["age"]["minimum"], fields["age"]["maximum"]) == (18, 35)
    assert fields["epic"]["pattern"] == "^[A-Za-z]{3}[0-9]{7}$"
    assert fields["phone"]["nullable"] is True


def test_push_and_pull_declare_their_answers(spec):
    push = answer_schema(spec, "/api/sync/push", "post")
    assert set(push["required"]) == {"last_seq", "server_hlc", "results"}
    result = resolve(spec, push["properties"]["results"]["items"])
    assert set(result["required"]) == {
        "seq",
        "status",
        "id",
        "version",
        "record",
        "conflicts",
        "error",
    }
    assert result["properties"]["status"]["enum"] == [
        "applied",
        "merged",
        "conflict",
        "rejected",
        "duplicate",
    ]
    pull = answer_schema(spec, "/api/sync/pull", "get")
    assert set(pull["required"]) == {
        "changes",
        "cursor",
        "has_more",
        "last_seq",
        "server_hlc",
        "reset",
    }
    change = resolve(spec, pull["properties"]["changes"]["items"])
    assert set(change["required"]) == {"entity", "id"}


def test_every_operation_answers_errors_in_the_one_shape(spec):
    error = spec["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    assert set(error["properties"]["error"]["required"]) == {"code", "message", "fields"}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            default = operation["responses"]["default"]["content"]["application/json"]
            assert default["schema"] == {"$ref": "#/components/schemas/Error"}, (path, method)


# ---------------------------------------------------------------- real answers against it


def as_json_schema(node):
    """OpenAPI 3.0 to JSON Schema: `nullable: true` becomes a null alternative."""
    if isinstance(node, list):
        return [as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: as_json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable") is True:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


def validator(spec, name):
    root = {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}
    return jsonschema_rs.validator_for(as_json_schema(root))


def test_push_and_pull_answers_are_declared_by_name(spec):
    push = spec["paths"]["/api/sync/push"]["post"]["responses"]["200"]
    pull = spec["paths"]["/api/sync/pull"]["get"]["responses"]["200"]
    assert push["content"]["application/json"]["schema"]["$ref"].endswith("/PushResponse")
    assert pull["content"]["application/json"]["schema"]["$ref"].endswith("/PullResponse")
    change = resolve(spec, spec["components"]["schemas"]["PullResponse"]["properties"]["changes"])
    records = [
        ref["$ref"].rsplit("/", 1)[1]
        for ref in resolve(spec, change["items"])["properties"]["record"]["oneOf"]
    ]
    assert records == [
        "MemberRecord",
        "GrievanceRecord",
        "GrievanceNoteRecord",
        "MeetingRecord",
        "RsvpRecord",
        "ConflictRecord",
    ]


def push_every_outcome(client, make, g):
    """Pushes of every record type answered with every status; the answers, and the phones."""
    volunteer = make.user("volunteer", g.b1)
    a = Phone(client, make, volunteer)
    b = Phone(client, make, make.user("volunteer", g.b1))
    p = Phone(client, make, make.user("block_president", g.k1))
    member_id, grievance_id, meeting_id = new_id(), new_id(), new_id()
    first = a.mutation("member", member_id, member_fields(g.b1, epic="ABC1234567"))
    answers = [a.push(first)]
    v = answers[0]["results"][0]["version"]
    later = a.mutation("member", member_id, {"name": "Later"}, base=v, hlc=a.hlc(-1000))
    earlier = b.mutation("member", member_id, {"name": "Earlier"}, base=v, hlc=b.hlc(-5000))
    answers += [a.push(later), b.push(earlier)]
    answers.append(
        a.push(
            a.mutation(
                "grievance",
                grievance_id,
                {"booth_id": g.b1.id, "category": "water", "description": "हैंडपंप खराब है"},
            ),
            a.mutation("grievance_note", new_id(), {"grievance_id": grievance_id, "text": "देखा"}),
            a.mutation("member", new_id(), member_fields(g.b3)),
        )
    )
    starts_at = int(p.hlc()[:13]) + 86_400_000
    meeting = {"title": "बैठक", "starts_at": starts_at, "unit_id": g.k1.id}
    answers.append(
        p.push(p.mutation("meeting", meeting_id, {**meeting, "audience_roles": ["volunteer"]}))
    )
    answers.append(
        a.push(a.mutation("rsvp", new_id(), {"meeting_id": meeting_id, "answer": "yes"}))
    )
    second_phone = Phone(client, make, volunteer)
    answers.append(
        second_phone.push(
            second_phone.mutation("rsvp", new_id(), {"meeting_id": meeting_id, "answer": "no"})
        )
    )
    answers.append(a.push(first))
    return answers, (a, p)


def test_real_push_and_pull_answers_validate_against_the_document(spec, client, make):
    g = make.geo()
    answers, phones = push_every_outcome(client, make, g)
    push_answer = validator(spec, "PushResponse")
    for answer in answers:
        push_answer.validate(answer)
    statuses = {result["status"] for answer in answers for result in answer["results"]}
    assert statuses == {"applied", "merged", "conflict", "rejected", "duplicate"}

    pull_answer = validator(spec, "PullResponse")
    entities = set()
    # The district president gets mobile numbers and EPICs masked.
    for phone in (*phones, Phone(client, make, make.user("district_president", g.d1))):
        for cursor in ("", "not a cursor"):
            answer = client.get(
                "/api/sync/pull", query_string={"cursor": cursor}, headers=phone.headers
            ).get_json()
            pull_answer.validate(answer)
            entities |= {change["entity"] for change in answer["changes"]}
    assert entities == {"member", "grievance", "grievance_note", "meeting", "rsvp", "conflict"}
    # The schemas are strict enough to catch a record that grew a field.
    record = answers[0]["results"][0]["record"]
    assert not push_answer.is_valid(
        {**answers[0], "results": [{**answers[0]["results"][0], "record": {**record, "extra": 1}}]}
    )
