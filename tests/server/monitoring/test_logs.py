"""JSON logs: every line carries the request id (nginx's X-Request-ID, or one made here),
answered in the same header; and a push carrying a mobile number and an EPIC leaves no
trace in any log line or metric."""

import io
import json
import logging

import pytest

from server.extensions import db
from server.monitoring.logs import JsonFormatter, RequestIdFilter, redact
from tests.server.syncing.phone import Phone, member_fields, new_id

MOBILE, EPIC = "9123987654", "JHK7654321"


@pytest.fixture
def json_log():
    """Everything logged by any logger during the test, as the production JSON lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def lines(stream) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_request_id_is_taken_from_nginx_and_answered(client, json_log):
    answer = client.get("/api/health", headers={"X-Request-ID": "0f3c9a7e5d1b4c2a"})
    assert answer.headers["X-Request-ID"] == "0f3c9a7e5d1b4c2a"
    [line] = [entry for entry in lines(json_log) if entry["logger"] == "server.requests"]
    assert line["request_id"] == "0f3c9a7e5d1b4c2a"
    assert line["route"] == "/api/health" and line["status"] == 200
    assert line["level"] == "info" and isinstance(line["duration_ms"], float)


@pytest.mark.parametrize("given", [None, "short", "has spaces in it", "x" * 200, "bad;id=12345678"])
def test_missing_or_odd_request_ids_are_replaced(client, json_log, given):
    headers = {"X-Request-ID": given} if given is not None else {}
    answer = client.get("/api/health", headers=headers)
    made = answer.headers["X-Request-ID"]
    assert made != given and len(made) == 32
    assert lines(json_log)[-1]["request_id"] == made


def test_request_lines_name_the_route_never_the_path(client, make, json_log):
    g = make.geo()
    volunteer = make.user("volunteer", g.b1)
    db.session.commit()
    client.get(f"/api/members?booth_id={g.b1.id}&q={MOBILE}", headers=make.headers(volunteer))
    client.get(f"/nothing/{MOBILE}").close()
    assert MOBILE not in json_log.getvalue()
    routes = [e["route"] for e in lines(json_log) if e["logger"] == "server.requests"]
    assert routes == ["/api/members", "/<path:name>"]


def test_a_push_with_a_mobile_and_an_epic_leaves_no_trace(client, make, json_log):
    g = make.geo()
    volunteer = make.user("volunteer", g.b1)
    db.session.commit()
    phone = Phone(client, make, volunteer)
    fields = member_fields(g.b1, phone=MOBILE, epic=EPIC)
    assert phone.send("member", new_id(), fields)["status"] == "applied"
    # The same EPIC on a second member, and a refused value beside the mobile number.
    assert phone.send("member", new_id(), fields)["status"] == "rejected"
    assert phone.send("member", new_id(), {**fields, "age": 99})["status"] == "rejected"
    phone.pull()
    metrics = client.get("/metrics").get_data(as_text=True)
    logged = json_log.getvalue()
    assert "server.requests" in logged
    for trace in (MOBILE, EPIC):
        assert trace not in logged
        assert trace not in metrics


def test_the_last_net_masks_numbers_and_epics_whatever_logged_them():
    text = "Key (epic)=(ABC1234567) exists; call +91 9876543210 or 09876543210; id 1712345678901"
    assert (
        redact(text) == "Key (epic)=([masked]) exists; call [masked] or [masked]; id 1712345678901"
    )
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "phone %s", ("9876543210",), None)
    assert "9876543210" not in JsonFormatter().format(record)
