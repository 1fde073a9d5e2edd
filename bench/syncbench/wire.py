"""The one place the benchmarks build sync requests (docs/protocol.md, Push and Pull).

tests/server/syncing/test_golden.py checks every request built here against the ones
recorded from the real server (tests/golden/*.json), so the benchmarks' phones cannot
drift from the protocol the app speaks.
"""

import json
from urllib.parse import urlencode

SCHEMA_VERSION = 1
PUSH_PATH = "/api/sync/push"
PULL_PATH = "/api/sync/pull"


def hlc(ms: int, counter: int, device_id: str) -> str:
    """`<13-digit ms>-<4 hex counter>-<device_id>`: plain string order is clock order."""
    return f"{ms:013d}-{counter:04x}-{device_id}"


def mutation(seq, entity, record_id, stamp, fields=None, base_version=None, op="upsert") -> dict:
    """One outbox entry on the wire; an upsert carries the fields it changes."""
    built = {
        "seq": seq,
        "entity": entity,
        "op": op,
        "id": record_id,
        "base_version": base_version,
        "hlc": stamp,
    }
    if op == "upsert":
        built["fields"] = fields
    return built


def push_body(device_id: str, mutations: list[dict], client_time: int | None) -> dict:
    """A push request; `client_time` None leaves it out (it is optional)."""
    body = {"device_id": device_id, "schema_version": SCHEMA_VERSION}
    if client_time is not None:
        body["client_time"] = client_time
    body["mutations"] = mutations
    return body


def encode(body: dict) -> bytes:
    """JSON in UTF-8 as the app sends it: Hindi as it is, no spaces."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def pull_path(cursor: str, limit: int) -> str:
    """The path and query of a pull from `cursor` (empty the first time)."""
    return PULL_PATH + "?" + urlencode({"cursor": cursor, "limit": limit})
