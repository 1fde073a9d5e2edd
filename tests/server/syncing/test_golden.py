"""The golden exchanges (tests/golden/*.json) are what the server answers, and the Python
phones build exactly the recorded requests from them: the test phone (phone.py) and the
benchmark phone (bench/)."""

import gzip
import json
import re
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qsl

import pytest

from tests.golden import record
from tests.server.syncing import phone as phone_module

GOLDEN = Path(record.__file__).resolve().parent
ROOT = GOLDEN.parents[1]
FILES = sorted(GOLDEN.glob("*.json"))
RERECORD = ".venv/bin/python -m tests.golden.record"


def golden(path):
    return json.loads(path.read_text())


def sync_files():
    """The scenarios spoken over /api/sync (the others are logins)."""
    return [
        pytest.param(golden(p), id=p.stem)
        for p in FILES
        if golden(p)["exchanges"][0]["request"]["path"].startswith("/api/sync/")
    ]


def test_the_golden_files_are_what_the_server_answers_today(tmp_path):
    written = record.record_all(tmp_path)
    assert sorted(p.name for p in written) == [p.name for p in FILES], (
        f"the scenarios and tests/golden/*.json differ: re-record with `{RERECORD}`"
    )
    changed = [p.name for p in written if p.read_text() != (GOLDEN / p.name).read_text()]
    assert not changed, (
        f"the server's exchanges no longer match the recorded ones in {changed}. If the "
        f"protocol changed on purpose, re-record with `{RERECORD}`, read `git diff "
        "tests/golden`, and update docs/protocol.md and the app's client with it."
    )


def test_every_exchange_the_contract_names_is_recorded():
    statuses, codes = set(), set()
    for path in FILES:
        for done in golden(path)["exchanges"]:
            body = done["response"]["body"] or {}
            statuses.update(r["status"] for r in body.get("results", []))
            codes.update(
                (r["error"] or {}).get("code") for r in body.get("results", []) if r["error"]
            )
            if "error" in body:
                codes.add(body["error"]["code"])
    assert {"applied", "merged", "conflict", "rejected", "duplicate"} <= statuses
    assert {"validation_error", "not_found", "retry", "database_unavailable"} <= codes
    assert "too_many_requests" in codes


# ---------------------------------------------------------------- replayed to phone.py


class RecordedServer:
    """A test client that checks each request against the next recorded one and answers
    with the recorded answer."""

    def __init__(self, exchanges):
        self.exchanges = list(exchanges)

    def next(self, method, path):
        assert self.exchanges, f"{method} {path} sent, but nothing more was recorded"
        done = self.exchanges.pop(0)
        assert (done["request"]["method"], done["request"]["path"]) == (method, path)
        return done

    @staticmethod
    def answer(done):
        return SimpleNamespace(
            status_code=done["response"]["status"],
            json=done["response"]["body"],
            headers=done["response"]["headers"],
        )

    def post(self, path, data, content_type, headers):
        done = self.next("POST", path)
        assert content_type == "application/json"
        assert json.loads(data) == done["request"]["body"]
        return self.answer(done)

    def get(self, path, query_string, headers):
        done = self.next("GET", path)
        assert {k: str(v) for k, v in query_string.items()} == done["request"]["query"]
        return self.answer(done)


@pytest.mark.parametrize("scenario", sync_files())
def test_phone_py_builds_the_recorded_requests(scenario, monkeypatch):
    server = RecordedServer(scenario["exchanges"])
    make = SimpleNamespace(
        device=lambda user: SimpleNamespace(id=scenario["device_id"]),
        headers=lambda user, device: {},
    )
    phone = phone_module.Phone(server, make, SimpleNamespace(id=1))
    phone.cursor = first_cursor(scenario)
    built = {}
    while server.exchanges:
        request = server.exchanges[0]["request"]
        if request["method"] == "GET":
            phone.pull(limit=int(request["query"]["limit"]))
            continue
        mutations = []
        for m in request["body"]["mutations"]:
            # A batch sent again (its answer was lost) is the same mutations, not new ones.
            if m["seq"] not in built:
                built[m["seq"]] = phone.mutation(
                    m["entity"], m["id"], m.get("fields"), m["base_version"], m["op"], m["hlc"]
                )
            mutations.append(built[m["seq"]])
        client_time = request["body"]["client_time"]
        monkeypatch.setattr(phone_module, "now_ms", lambda at=client_time: at)
        phone.push_raw(mutations)


def first_cursor(scenario) -> str:
    """The cursor the phone starts from: empty, or the one a scenario set by hand."""
    if any("set_cursor" in step for step in scenario["steps"]):
        return scenario["exchanges"][0]["request"]["query"]["cursor"]
    return ""


# ---------------------------------------------------------------- replayed to the benchmarks


@pytest.fixture
def syncbench(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    import syncbench

    return syncbench


@pytest.mark.parametrize("scenario", sync_files())
def test_the_benchmark_phone_builds_the_recorded_requests(scenario, syncbench, monkeypatch):
    server = RecordedServer(scenario["exchanges"])
    person = syncbench.Person(1, "volunteer", 1, scenario["device_id"], "token")
    phone = syncbench.Phone("http://golden.test:5000", person)

    def request(method, path, body=None, headers=None):
        path, _, query = path.partition("?")
        done = server.next(method, path)
        if method == "GET":
            assert dict(parse_qsl(query, keep_blank_values=True)) == done["request"]["query"]
        else:
            if (headers or {}).get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            assert json.loads(body) == done["request"]["body"]
        answer = done["response"]
        return syncbench.Exchange(answer["status"], answer["body"], 0.0, 0, 0, 0)

    monkeypatch.setattr(phone, "request", request)
    phone.cursor = first_cursor(scenario)
    built = {}
    while server.exchanges:
        sent = server.exchanges[0]["request"]
        if sent["method"] == "GET":
            phone.pull_all(limit=int(sent["query"]["limit"]))
            continue
        for m in sent["body"]["mutations"]:
            if m["seq"] not in built:
                built[m["seq"]] = phone.mutation(
                    m["id"], m.get("fields"), m["base_version"], m["entity"], m["op"], m["hlc"]
                )
        mutations = [built[m["seq"]] for m in sent["body"]["mutations"]]
        if server.exchanges[0]["response"]["status"] == 200:
            phone.push(mutations, client_time=sent["body"]["client_time"])
        else:
            with pytest.raises(RuntimeError, match="push answered 503"):
                phone.push(mutations, client_time=sent["body"]["client_time"])


# ---------------------------------------------------------------- and the written contract


def documented_keys(heading: str) -> list[set[str]]:
    """The keys of each JSON example under `heading` in docs/protocol.md."""
    doc = (ROOT / "docs" / "protocol.md").read_text()
    section = doc.split(heading, 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```json\n(.*?)```", section, re.S)
    # A mutation's `fields` are the record's, not the protocol's: leave them out.
    return [
        set(re.findall(r'"(\w+)":', re.sub(r'"fields": \{[^}]*\}', '"fields": {}', b)))
        for b in blocks
    ]


def recorded_keys(path: str, part: str, inner: str) -> tuple[set[str], set[str]]:
    """Keys of every recorded 200 request or answer body of `path`, and of its `inner` items."""
    outer, items = set(), set()
    for p in FILES:
        for done in golden(p)["exchanges"]:
            if done["request"]["path"] != path or done["response"]["status"] != 200:
                continue
            body = done["request"]["body"] if part == "request" else done["response"]["body"]
            outer |= set(body)
            for item in body[inner]:
                items |= set(item)
    return outer, items


def test_the_recorded_exchanges_have_the_shapes_docs_protocol_md_shows():
    push_request, push_answer = documented_keys("## Push: the device sends its outbox")
    (pull_answer,) = documented_keys("## Pull: the device fetches what changed")
    envelope, mutation = recorded_keys("/api/sync/push", "request", "mutations")
    assert envelope | mutation == push_request
    answer, result = recorded_keys("/api/sync/push", "answer", "results")
    assert answer | result == push_answer
    page, change = recorded_keys("/api/sync/pull", "answer", "changes")
    assert page <= pull_answer and change - {"record"} <= pull_answer
    assert pull_answer - page - change == {"removed"}  # a change leaving scope: not recorded
