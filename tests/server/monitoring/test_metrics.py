"""/metrics: served to METRICS_ALLOWED only (the real client address behind one proxy),
counting pushes, pulls, mutations by outcome, requests and their latency, the outbox and
active devices, and adding up every process that shares PROMETHEUS_MULTIPROC_DIR."""

import os
import subprocess
import sys
import textwrap

from prometheus_client.parser import text_string_to_metric_families

from server import create_app
from server.extensions import db
from tests.server.syncing.phone import Phone, member_fields, new_id


def figures(client) -> dict:
    answer = client.get("/metrics")
    assert answer.status_code == 200, answer.data
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(answer.get_data(as_text=True))
        for s in family.samples
    }


def total(found: dict, name: str, **labels) -> float:
    return sum(
        v for (n, items), v in found.items() if n == name and labels.items() <= dict(items).items()
    )


def test_push_pull_and_mutations_are_counted(client, make):
    g = make.geo()
    volunteer = make.user("volunteer", g.b1)
    db.session.commit()
    before = figures(client)
    phone = Phone(client, make, volunteer)
    member = new_id()
    assert phone.send("member", member, member_fields(g.b1, epic="ABC1234567"))["status"] == (
        "applied"
    )
    assert phone.send("member", new_id(), member_fields(g.b1, epic="ABC1234567"))["status"] == (
        "rejected"
    )
    phone.pull()
    after = figures(client)

    def grew(name, **labels):
        return total(after, name, **labels) - total(before, name, **labels)

    assert grew("booth_sync_pushes_total", status="200") == 2
    assert grew("booth_sync_pulls_total", status="200") >= 1
    assert grew("booth_sync_mutations_total", status="applied") == 1
    assert grew("booth_sync_mutations_total", status="rejected") == 1
    assert grew("booth_http_requests_total", route="/api/sync/push", method="POST") == 2
    assert grew("booth_http_request_duration_seconds_count", route="/api/sync/push") == 2
    assert total(after, "booth_active_devices", window="1h") >= 1
    assert total(after, "booth_push_outbox_depth", status="pending") == 0
    assert total(after, "booth_database_up") == 1


def test_other_addresses_get_403_in_the_error_shape(client):
    answer = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert answer.status_code == 403
    assert answer.json["error"]["code"] == "forbidden"


def test_behind_a_proxy_the_real_client_counts_not_a_forged_header(database_url):
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret-key-that-is-long-enough-for-hs256",
            "PROXY_HOPS": 1,
            "METRICS_ALLOWED": ["10.0.0.0/24"],
        }
    )
    client = app.test_client()
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    # nginx sets X-Forwarded-For to the address it saw; a client's own claim comes before it.
    forged = client.get(
        "/metrics", environ_base=proxy, headers={"X-Forwarded-For": "10.0.0.7, 198.51.100.4"}
    )
    assert forged.status_code == 403
    real = client.get("/metrics", environ_base=proxy, headers={"X-Forwarded-For": "10.0.0.7"})
    assert real.status_code == 200
    with app.app_context():
        db.engine.dispose()  # this app's own pool: closed now, not by the garbage collector


WORKER = textwrap.dedent(
    """
    import sys
    from server import create_app
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": sys.argv[1],
                      "SECRET_KEY": "test-secret-key-that-is-long-enough-for-hs256"})
    client = app.test_client()
    if sys.argv[2] == "scrape":
        sys.stdout.write(client.get("/metrics").get_data(as_text=True))
    else:
        for _ in range(int(sys.argv[2])):
            assert client.get("/api/health").status_code == 200
    """
)


def test_every_process_sharing_the_directory_is_added_up(database_url, tmp_path):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}

    def run(arg):
        return subprocess.run(
            [sys.executable, "-c", WORKER, database_url, arg],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout

    run("3")
    run("4")
    text = run("scrape")
    [count] = [
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "booth_http_requests_total" and s.labels["route"] == "/api/health"
    ]
    assert count == 7
    assert len(list(tmp_path.glob("counter_*.db"))) >= 2
