"""A phone for tests: its own device id, outbox seq and clock, speaking the sync protocol
over HTTP (the Flask test client)."""

import json

from server.records import now_ms
from tests.sync.protocol_phone import ProtocolPhone, member_fields, new_id

__all__ = ["Phone", "member_fields", "new_id"]


class Phone(ProtocolPhone):
    def __init__(self, client, make, user, clock_offset_ms=0):
        super().__init__(clock_offset_ms)
        self.client = client
        self.user = user
        device = make.device(user)
        self.headers = make.headers(user, device)
        # Plain values: the phone is used from threads with no app context.
        self.device_id = device.id
        self.user_id = user.id

    def now(self):
        return now_ms()

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

    def pull_page(self, limit):
        response = self.client.get(
            "/api/sync/pull",
            query_string={"cursor": self.cursor, "limit": limit},
            headers=self.headers,
        )
        assert response.status_code == 200, response.json
        return response.json
