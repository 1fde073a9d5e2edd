"""A phone for tests: its own device id, outbox seq and clock, speaking the sync protocol."""

import itertools
import json
import uuid

from server.records import now_ms
from sync.hlc import format_hlc


def new_id():
    return str(uuid.uuid4())


class Phone:
    def __init__(self, client, make, user, clock_offset_ms=0):
        self.client = client
        self.user = user
        device = make.device(user)
        self.headers = make.headers(user, device)
        # Plain values: the phone is used from threads with no app context.
        self.device_id = device.id
        self.user_id = user.id
        self.seq = 0
        self.offset = clock_offset_ms
        self._counter = itertools.count()
        self.cursor = ""
        self.seen = {}  # (entity, id) -> change

    def hlc(self, offset_ms=0):
        return format_hlc(
            now_ms() + self.offset + offset_ms, next(self._counter) % 0xFFFF, self.device_id
        )

    def mutation(self, entity, record_id, fields=None, base=None, op="upsert", hlc=None):
        self.seq += 1
        m = {
            "seq": self.seq,
            "entity": entity,
            "op": op,
            "id": record_id,
            "base_version": base,
            "hlc": hlc or self.hlc(),
        }
        if fields is not None:
            m["fields"] = fields
        return m

    def push_raw(self, mutations, **extra):
        body = {
            "device_id": self.device_id,
            "schema_version": 1,
            "client_time": now_ms(),
            "mutations": mutations,
            **extra,
        }
        # json.dumps escapes as ASCII, so hostile text (a lone surrogate) can be sent too.
        return self.client.post(
            "/api/sync/push",
            data=json.dumps(body),
            content_type="application/json",
            headers=self.headers,
        )

    def push(self, *mutations):
        response = self.push_raw(list(mutations))
        assert response.status_code == 200, response.json
        return response.json

    def send(self, entity, record_id, fields=None, base=None, op="upsert", hlc=None):
        """Push one mutation and return its result."""
        return self.push(self.mutation(entity, record_id, fields, base, op, hlc))["results"][0]

    def pull(self, limit=500):
        """Pull every page; remember the latest state of each record."""
        pages = 0
        while True:
            response = self.client.get(
                "/api/sync/pull",
                query_string={"cursor": self.cursor, "limit": limit},
                headers=self.headers,
            )
            assert response.status_code == 200, response.json
            answer = response.json
            pages += 1
            if answer["reset"]:
                self.cursor, self.seen = "", {}
                continue
            for change in answer["changes"]:
                key = (change["entity"], change["id"])
                if change.get("removed"):
                    self.seen.pop(key, None)
                else:
                    self.seen[key] = change
            self.cursor = answer["cursor"]
            if not answer["has_more"]:
                return answer

    def records(self, entity):
        return {k[1]: v["record"] for k, v in self.seen.items() if k[0] == entity}


def member_fields(booth, name="राम कुमार", **kw):
    """Fields of a new member of `booth` (a Unit, or its id when used from a thread)."""
    return {
        "booth_id": booth if isinstance(booth, int) else booth.id,
        "name": name,
        "age": 24,
        "gender": "male",
        "phone": "9876543210",
        "consent": True,
        **kw,
    }
