"""HTTPS calls to the rehearsal stack through nginx, trusting its self-signed certificate."""

import http.client
import json
import ssl
import uuid

DEMO_PASSWORD = "booth-demo"


class Https:
    """One client (a phone, a monitoring server); `source` picks the local address."""

    def __init__(self, stack, source: str | None = None):
        self.host, self.port = "127.0.0.1", stack.https_port
        self.context = ssl.create_default_context(cafile=str(stack.ca_path))
        self.source = source

    def request(self, method, path, body=None, token=None, headers=None):
        """(status, headers, parsed JSON or text) of one request on a new connection."""
        conn = http.client.HTTPSConnection(
            self.host,
            self.port,
            context=self.context,
            timeout=30,
            source_address=(self.source, 0) if self.source else None,
        )
        sent = {"Content-Type": "application/json"} | (headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        try:
            conn.request(
                method, path, body=json.dumps(body) if body is not None else None, headers=sent
            )
            answer = conn.getresponse()
            raw = answer.read()
            kind = answer.getheader("Content-Type", "")
            data = json.loads(raw) if "json" in kind and raw else raw.decode("utf-8", "replace")
            return answer.status, {k.lower(): v for k, v in answer.getheaders()}, data
        finally:
            conn.close()

    def login(self, phone: str) -> tuple[str, str, dict]:
        """(access token, device id, user) for a demo account on a new device."""
        device = str(uuid.uuid4())
        status, _, data = self.request(
            "POST",
            "/api/auth/login",
            {
                "phone": phone,
                "password": DEMO_PASSWORD,
                "device_id": device,
                "device_name": "rehearsal",
            },
        )
        if status != 200:
            raise AssertionError(f"login {phone}: {status} {data}")
        return data["access_token"], device, data["user"]
