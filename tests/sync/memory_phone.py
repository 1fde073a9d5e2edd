"""A phone speaking the sync protocol to a `MemoryServer`: the same calls as
tests/server/syncing/phone.py's Phone, with no HTTP in between."""

from tests.sync.protocol_phone import ProtocolPhone, member_fields, new_id

__all__ = ["DEVICE_AGE_MS", "MemoryPhone", "member_fields", "new_id"]

# A phone is registered a month before the test (tests/factories.py does so): the server
# raises a clock from before registration to it.
DEVICE_AGE_MS = 30 * 86_400_000


class MemoryPhone(ProtocolPhone):
    def __init__(self, server, user_id, clock_offset_ms=0):
        super().__init__(clock_offset_ms)
        self.server = server
        self.user_id = user_id
        self.device_id = server.db.add_device(user_id, new_id(), server.now() - DEVICE_AGE_MS)

    def now(self):
        return self.server.now()

    def push(self, *mutations):
        body = {"device_id": self.device_id, "schema_version": 1, "mutations": list(mutations)}
        status, answer = self.server.push(self.device_id, body)
        assert status == 200, answer
        self.server.clock.advance(1)
        return answer

    def pull_page(self, limit):
        status, answer = self.server.pull(self.device_id, self.cursor, limit)
        assert status == 200, answer
        return answer
