"""The production stack as a phone, an operator and a monitoring server see it: nginx's
caching headers and TLS, request ids from nginx to the app's JSON log, /metrics gathered
from every gunicorn worker and the push worker, a Web Push round trip, no personal data in
any log or metric, and the stack's faults recovered from."""

import concurrent.futures
import json
import re
import time
import uuid

from tests.e2e.harness import BLOCK_PRESIDENT, VOLUNTEER
from tests.prod.client import Https
from tests.prod.helpers import metric, metrics, push, wait_until
from tests.server.push.standin import PushServiceStandin


def test_nginx_serves_the_app_with_its_cache_rules(https, stack):
    status, headers, _ = https.request("GET", "/")
    assert status == 200 and headers["cache-control"] == "no-cache"
    assert "default-src 'self'" in headers["content-security-policy"]
    status, headers, _ = https.request("GET", "/members/new")
    assert status == 200 and headers["cache-control"] == "no-cache"
    status, headers, _ = https.request("GET", "/sw.js")
    assert status == 200 and headers["cache-control"] == "no-cache"
    assert headers["service-worker-allowed"] == "/"
    [bundle] = [p.name for p in (stack.dir / "www" / "assets").glob("app-*.js")]
    status, headers, _ = https.request(
        "GET", f"/assets/{bundle}", headers={"Accept-Encoding": "gzip"}
    )
    assert status == 200 and headers["cache-control"] == "public, max-age=31536000, immutable"
    assert headers["content-encoding"] == "gzip"
    status, _, _ = https.request("GET", "/assets/app-GONE1234.js")
    assert status == 404
    status, headers, body = https.request("GET", "/api/health")
    assert status == 200 and headers["cache-control"] == "no-store"
    assert body["database"] == "ok" and body["push_outbox"]["lag_seconds"] >= 0


def test_request_id_from_nginx_reaches_the_app_log(https, stack):
    status, headers, _ = https.request(
        "GET", "/api/health", headers={"X-Request-ID": "forged-by-client"}
    )
    assert status == 200
    rid = headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", rid)  # nginx's $request_id, not the client's
    access = (stack.dir / "nginx" / "access.log").read_text()
    assert any(json.loads(line)["request_id"] == rid for line in access.splitlines())
    lines = wait_until(
        lambda: [
            json.loads(line)
            for i in range(stack.node_count)
            for line in stack.log_path(f"node-{i}.log").read_text().splitlines()
            if line.startswith("{") and rid in line
        ]
    )
    assert lines[0]["route"] == "/api/health" and lines[0]["status"] == 200


def test_metrics_add_up_every_worker_and_refuse_other_addresses(https, stack):
    before = metric(metrics(https), "booth_http_requests_total", route="/api/health")
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        statuses = list(
            pool.map(lambda _: Https(stack).request("GET", "/api/health")[0], range(40))
        )
    assert statuses == [200] * 40
    figures = metrics(https)
    assert metric(figures, "booth_http_requests_total", route="/api/health") - before == 40
    # Both nodes' workers answered, and one scrape counted them all.
    access = (stack.dir / "nginx" / "access.log").read_text()
    assert {f"127.0.0.1:{port}" for port in stack.node_ports} <= set(
        re.findall(r'"upstream":"([^"]+)"', access)
    )
    assert len({p.name.rsplit("_", 1)[1] for p in stack.metrics_dir.glob("counter_*.db")}) >= 2
    assert metric(figures, "booth_http_request_duration_seconds_count", route="/api/health") > 0
    assert metric(figures, "booth_database_up") == 1
    # Another address: nginx refuses it before the app is asked.
    status, _, _ = Https(stack, source="127.0.0.2").request("GET", "/metrics")
    assert status == 403


def create_meeting(https, token, device, unit_id):
    [result] = push(
        https,
        token,
        device,
        [
            {
                "entity": "meeting",
                "id": str(uuid.uuid4()),
                "fields": {
                    "title": "बूथ समिति की बैठक",
                    "agenda": "नए युवा साथियों की सूची",
                    "starts_at": int(time.time() * 1000) + 2 * 86400 * 1000,
                    "place": "काँके प्रखंड कार्यालय",
                    "unit_id": unit_id,
                    "audience_roles": ["volunteer"],
                },
            }
        ],
    )
    assert result["status"] == "applied", result


def test_web_push_round_trip_through_https(https, stack):
    status, _, key = https.request("GET", "/api/push/key")
    assert status == 200 and key["public_key"] == stack.vapid_public
    sent_before = metric(metrics(https), "booth_push_deliveries_total", result="sent")
    with PushServiceStandin(key["public_key"]) as service:
        token, _device, _ = https.login(VOLUNTEER)
        status, _, answer = https.request(
            "POST", "/api/push/subscriptions", service.subscription("phone"), token
        )
        assert status == 201, answer
        leader_token, leader_device, leader = https.login(BLOCK_PRESIDENT)
        create_meeting(https, leader_token, leader_device, leader["unit"]["id"])
        # The push worker service (not a test call) signs, encrypts and sends it.
        [message] = wait_until(lambda: service.received, timeout=60)
        assert service.rejected == []
    assert message.payload["title"] == "नई बैठक: बूथ समिति की बैठक"
    assert message.claims["sub"] == "mailto:ops@example.org"
    figures = wait_until(
        lambda: (
            (f := metrics(https))
            and metric(f, "booth_push_deliveries_total", result="sent") > sent_before
            and f
        )
    )
    assert metric(figures, "booth_push_outbox_depth") == 0
    assert metric(figures, "booth_active_devices", window="1h") >= 2
