"""The recording world: a fresh server on SQLite with a frozen clock, and a phone that speaks
the protocol as the app's sync client does (pwa/src/sync/engine.js, outbox.js, hlc.js)."""

import contextlib
import json
import re
from pathlib import Path

from flask_jwt_extended import create_access_token
from flask_migrate import upgrade
from sqlalchemy import text

from server import create_app
from server import records as records_module
from server.extensions import db
from tests.factories import Factories

# 2026-01-01 00:00 UTC. Every step of a scenario moves the clock on by whole seconds, so
# the float that now_ms() reads is exact and every stamp is the same on each recording.
T0 = 1_767_225_600_000
TICK_MS = 1000
PULL_LIMIT = 500  # the app's page size (pwa/src/sync/engine.js PULL_LIMIT)
SCHEMA_VERSION = 1
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def fixed_id(kind: int, n: int) -> str:
    """A readable fixed UUID: kind 1 devices, 2 members, 3 grievances; 0xC server-made."""
    return f"{kind:08x}-0000-4000-8000-{n:012x}"


class FrozenClock:
    """Stands in for the `time` module in server/records.py: now_ms() reads it."""

    def __init__(self, ms: int):
        self.ms = ms

    def time(self) -> float:
        return self.ms / 1000


class World:
    """One fresh database and app per recording; the clock is frozen while it runs."""

    def __init__(self, directory: Path):
        self.app = create_app(
            {
                "TESTING": True,
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory / 'golden.db'}",
                "SECRET_KEY": "golden-secret-key-that-is-long-enough-for-hs256",
                "PASSWORD_TIME_COST": 1,
                "PASSWORD_MEMORY_COST": 1024,
            }
        )
        self.clock = FrozenClock(T0)
        self.client = self.app.test_client()
        self.make = None

    @contextlib.contextmanager
    def running(self):
        real_time = records_module.time
        records_module.time = self.clock
        try:
            with self.app.app_context():
                upgrade()
                self.make = Factories(self.app)
                yield self
                db.session.remove()
                db.engine.dispose()
        finally:
            records_module.time = real_time

    def reset(self):
        """Empty every table and put the clock back, so each scenario starts the same."""
        db.session.remove()
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(text(f"DELETE FROM {table.name}"))
        db.session.commit()
        self.clock.ms = T0
        self.make = Factories(self.app)

    def tick(self, ms: int = TICK_MS) -> int:
        self.clock.ms += ms
        return self.clock.ms

    def headers(self, user, device_id: str) -> dict:
        """A bearer token for a device of `user` registered a month before the clock."""
        device = self.make.device(user, device_id=device_id)
        token = create_access_token(
            identity=user, additional_claims={"dev": device.id, "gen": device.token_generation}
        )
        return {"Authorization": f"Bearer {token}"}


def request_record(method: str, path: str, query: dict | None, body) -> dict:
    return {"method": method, "path": path, "query": query, "body": body}


def exchange(client, method, path, query=None, body=None, headers=None) -> dict:
    """Send one request through the test client; the request and its answer as data."""
    if method == "GET":
        response = client.get(path, query_string=query, headers=headers)
    else:
        response = client.post(
            path,
            data=json.dumps(body, ensure_ascii=False),
            content_type="application/json",
            headers=headers,
        )
    answer = {"status": response.status_code, "headers": {}, "body": response.get_json()}
    if "Retry-After" in response.headers:
        answer["headers"]["Retry-After"] = response.headers["Retry-After"]
    return {"request": request_record(method, path, query, body), "response": answer}


# ---------------------------------------------------------------- the app's clock


def format_hlc(ms: int, counter: int, device: str) -> str:
    return f"{ms:013d}-{counter:04x}-{device}"


def parse_hlc(hlc):
    if not hlc:
        return 0, 0
    ms, counter = hlc.split("-")[:2]
    return int(ms), int(counter, 16)


def next_hlc(last, now_ms: int, device: str) -> str:
    """hlc.js nextHlc: the wall clock when it has passed the last stamp, else a bump."""
    ms, counter = parse_hlc(last)
    return format_hlc(now_ms, 0, device) if now_ms > ms else format_hlc(ms, counter + 1, device)


def later_hlc(mine, seen):
    """hlc.js laterHlc."""
    if not seen:
        return mine
    if not mine:
        return seen
    return seen if parse_hlc(seen) > parse_hlc(mine) else mine


class AppPhone:
    """What the app's sync client sends and keeps, step by step, as plain data.

    Each step is written down (`steps`) so the JS test can make the same edits and syncs,
    and each request and answer (`exchanges`) so it can check what the client sends.
    """

    def __init__(self, world: World, user, device_id: str):
        self.world = world
        self.device_id = device_id
        self.headers = world.headers(user, device_id)
        self.seq = 0
        self.hlc = None
        self.cursor = ""
        self.versions = {}  # (entity, id) -> server version held
        self.outbox = []
        self.attention = []
        self.steps = []
        self.exchanges = []
        self.lose_next_answer = False
        self.pull_limit = PULL_LIMIT

    # -- the person's edits (outbox.js enqueue)

    def edit(self, entity, record_id, fields=None, op="upsert", base_version=...):
        at = self.world.tick()
        self.hlc = next_hlc(self.hlc, at, self.device_id)
        self.seq += 1
        if base_version is ...:
            base_version = self.versions.get((entity, record_id))
        step = {"entity": entity, "op": op, "id": record_id, "at": at}
        mutation = {
            "seq": self.seq,
            "entity": entity,
            "op": op,
            "id": record_id,
            "base_version": base_version,
            "hlc": self.hlc,
        }
        if op == "upsert":
            step["fields"] = mutation["fields"] = dict(fields)
        if base_version != self.versions.get((entity, record_id)):
            step["base_version"] = base_version
        self.steps.append({"edit": step})
        self.outbox.append(mutation)
        return mutation

    # -- engine.js sync: push, pull, push again when something is left

    def sync(self, wait_ms: int = TICK_MS) -> str:
        at = self.world.tick(wait_ms)
        self.steps.append({"sync": {"at": at}})
        status = self.push(at)
        if status != "ok":
            return status
        self.pull()
        return self.push(at) if self.outbox else "ok"

    def set_cursor(self, cursor: str):
        self.steps.append({"set_cursor": cursor})
        self.cursor = cursor

    def pull_only(self):
        self.world.tick()
        self.steps.append({"pull": {}})
        self.pull()

    def send(self, method, path, query=None, body=None) -> dict:
        done = exchange(self.world.client, method, path, query, body, self.headers)
        if self.lose_next_answer:
            done["lost"] = True
            self.lose_next_answer = False
        self.exchanges.append(done)
        return done

    def push(self, at) -> str:
        if not self.outbox:
            return "ok"
        batch = list(self.outbox)
        body = {
            "device_id": self.device_id,
            "schema_version": SCHEMA_VERSION,
            "client_time": at,
            "mutations": batch,
        }
        done = self.send("POST", "/api/sync/push", body=body)
        if done.get("lost") or done["response"]["status"] != 200:
            return "offline"
        answer = done["response"]["body"]
        results = {r["seq"]: r for r in answer["results"]}
        for m in batch:
            result = results.get(m["seq"])
            if result and result["status"] == "rejected":
                self.attention.append({**m, "error": result["error"]})
            if result and result.get("record"):
                self.store(m["entity"], result.get("id") or m["id"], result["version"])
        upto = min(answer["last_seq"], batch[-1]["seq"])
        self.outbox = [m for m in self.outbox if m["seq"] > upto]
        self.hlc = later_hlc(self.hlc, answer["server_hlc"])
        return "ok"

    def pull(self):
        resets = 0
        while True:
            query = {"cursor": self.cursor, "limit": str(self.pull_limit)}
            page = self.send("GET", "/api/sync/pull", query=query)["response"]["body"]
            if page["reset"]:
                self.versions = {}
                self.cursor = ""
                resets += 1
                assert resets <= 3
                continue
            for change in page["changes"]:
                key = (change["entity"], change["id"])
                if change.get("removed"):
                    self.versions.pop(key, None)
                else:
                    self.store(change["entity"], change["id"], change.get("version"))
            self.cursor = page["cursor"]
            self.hlc = later_hlc(self.hlc, page["server_hlc"])
            if not page["has_more"]:
                return

    def store(self, entity, record_id, version):
        held = self.versions.get((entity, record_id))
        if held is not None and version is not None and held > version:
            return
        self.versions[(entity, record_id)] = version
