"""What every test phone does the same way, whatever carries its requests: number its
mutations, stamp them with its clock, and keep what its pulls bring. The HTTP phone
(tests/server/syncing/phone.py) and the memory phone (tests/sync/memory_phone.py) add only
how a push and a pull page reach the server, and what time it is."""

import itertools
import uuid

from sync.hlc import format_hlc


def new_id():
    return str(uuid.uuid4())


def member_fields(booth, name="राम कुमार", **kw):
    """Fields of a new member of `booth` (a unit or place, or its id)."""
    return {
        "booth_id": booth if isinstance(booth, int) else booth.id,
        "name": name,
        "age": 24,
        "gender": "male",
        "phone": "9876543210",
        "consent": True,
        **kw,
    }


class ProtocolPhone:
    """A subclass sets `device_id` and provides now(), push(*mutations) and
    pull_page(limit)."""

    def __init__(self, clock_offset_ms=0):
        self.seq = 0
        self.offset = clock_offset_ms
        self._counter = itertools.count()
        self.cursor = ""
        self.seen = {}  # (entity, id) -> change

    def hlc(self, offset_ms=0):
        ms = self.now() + self.offset + offset_ms
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

    def send(self, entity, record_id, fields=None, base=None, op="upsert", hlc=None):
        """Push one mutation and return its result."""
        return self.push(self.mutation(entity, record_id, fields, base, op, hlc))["results"][0]

    def pull(self, limit=500):
        """Pull every page; remember the latest state of each record."""
        while True:
            answer = self.pull_page(limit)
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
