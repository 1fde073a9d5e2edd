"""A phone speaking the sync protocol to a `MemoryServer`: the same calls as
tests/server/syncing/phone.py's Phone, with no HTTP in between."""

import itertools
import uuid

from sync.hlc import format_hlc

# A phone is registered a month before the test (tests/factories.py does so): the server
# raises a clock from before registration to it.
DEVICE_AGE_MS = 30 * 86_400_000


def new_id():
    return str(uuid.uuid4())


class MemoryPhone:
    def __init__(self, server, user_id, clock_offset_ms=0):
        self.server = server
        self.user_id = user_id
        self.device_id = server.db.add_device(user_id, new_id(), server.now() - DEVICE_AGE_MS)
        self.seq = 0
        self.offset = clock_offset_ms
        self._counter = itertools.count()
        self.cursor = ""
        self.seen = {}  # (entity, id) -> change

    def hlc(self, offset_ms=0):
        ms = self.server.now() + self.offset + offset_ms
        return format_hlc(ms, next(self._counter) % 0xFFFF, self.device_id)

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

    def push(self, *mutations):
        body = {"device_id": self.device_id, "schema_version": 1, "mutations": list(mutations)}
        status, answer = self.server.push(self.device_id, body)
        assert status == 200, answer
        self.server.clock.advance(1)
        return answer

    def send(self, entity, record_id, fields=None, base=None, op="upsert", hlc=None):
        """Push one mutation and return its result."""
        return self.push(self.mutation(entity, record_id, fields, base, op, hlc))["results"][0]

    def pull(self, limit=500):
        """Pull every page; remember the latest state of each record."""
        while True:
            status, answer = self.server.pull(self.device_id, self.cursor, limit)
            assert status == 200, answer
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
    """Fields of a new member of `booth` (a Place)."""
    return {
        "booth_id": booth.id,
        "name": name,
        "age": 24,
        "gender": "male",
        "phone": "9876543210",
        "consent": True,
        **kw,
    }
