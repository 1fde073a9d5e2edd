"""/api/openapi.json declares the constraints the server checks, so clients and the API
fuzzer (tests/fuzz) can trust it: patterns, formats, lengths, enums, integer ranges, typed
path parameters, the answers of push and pull, and the error shape."""

import pytest

from server.ranges import INT32_MAX, INT64_MAX


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
