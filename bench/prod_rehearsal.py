"""Benchmark: the production rehearsal stack (tests/prod/stack.py) measured.

How long the stack takes to come up; the latency of a pull and of the health check
through nginx and TLS (one kept-alive connection, and a new TLS connection per request, as
a phone waking up makes) against the same request straight to an app node; and what
each fault costs: requests failed while a gunicorn worker is killed or a node is stopped
(a loop of pulls through nginx meanwhile), and the time until /api/health answers 200
again after PgBouncer and PostgreSQL restarts. Prints the figures and writes them to the
"## Production rehearsal" section of docs/benchmarks.md.

    .venv/bin/python bench/prod_rehearsal.py [--requests 300] [--prod-check-seconds N]
"""

import argparse
import http.client
import platform
import ssl
import statistics
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.e2e.harness import VOLUNTEER  # noqa: E402
from tests.prod.client import Https  # noqa: E402
from tests.prod.stack import ProductionStack  # noqa: E402

SECTION = "## Production rehearsal"


def percentiles(samples_ms: list[float]) -> tuple[float, float]:
    ordered = sorted(samples_ms)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


def timed_requests(connect, path, headers, count) -> list[float]:
    """`count` GETs of `path`; `connect()` gives a connection, or None to reuse one."""
    conn, samples = None, []
    for _ in range(count):
        started = time.perf_counter()
        fresh = connect(conn)
        if fresh is not conn:
            if conn is not None:
                conn.close()
            conn = fresh
        conn.request("GET", path, headers=headers)
        answer = conn.getresponse()
        answer.read()
        assert answer.status == 200, answer.status
        samples.append((time.perf_counter() - started) * 1000)
    conn.close()
    return samples


def latency(stack, token, count) -> list[tuple[str, str, float, float]]:
    context = ssl.create_default_context(cafile=str(stack.ca_path))
    headers = {"Authorization": f"Bearer {token}"}
    node_host, node_port = stack.node_url(0).removeprefix("http://").split(":")

    def https_new(_):
        return http.client.HTTPSConnection("127.0.0.1", stack.https_port, context=context)

    def https_kept(conn):
        return conn or https_new(conn)

    def node_kept(conn):
        return conn or http.client.HTTPConnection(node_host, int(node_port))

    rows = []
    for path in ("/api/health", "/api/sync/pull?limit=200"):
        for how, connect in (
            ("nginx + TLS, kept-alive", https_kept),
            ("nginx + new TLS connection each", https_new),
            ("app node directly", node_kept),
        ):
            p50, p95 = percentiles(timed_requests(connect, path, headers, count))
            rows.append((path.split("?")[0], how, p50, p95))
    return rows


class PullLoop:
    """Pulls through nginx in a loop in the background, counting answers by status."""

    def __init__(self, stack, token):
        self.https, self.token = Https(stack), token
        self.counts: dict[str, int] = {}
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self.stopping.is_set():
            try:
                status = str(
                    self.https.request("GET", "/api/sync/pull?limit=50", token=self.token)[0]
                )
            except OSError as exc:
                status = type(exc).__name__
            self.counts[status] = self.counts.get(status, 0) + 1

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.thread.join(30)


def until_healthy(stack, started) -> float:
    client = Https(stack)
    while True:
        try:
            if client.request("GET", "/api/health")[0] == 200:
                return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.05)


def faults(stack, token) -> list[tuple[str, str, str]]:
    rows = []
    for name, act in (
        ("a gunicorn worker of node 0 SIGKILLed", lambda: stack.kill_worker(0)),
        ("node 1 stopped (SIGTERM) and started", lambda: (stack.stop_node(1), stack.start_node(1))),
    ):
        with PullLoop(stack, token) as loop:
            time.sleep(2)
            act()
            time.sleep(3)
        failed = sum(n for status, n in loop.counts.items() if status != "200")
        rows.append((name, f"{failed} of {sum(loop.counts.values())} pulls failed", "-"))
    for name, act in (
        ("PgBouncer restarted", stack.restart_pgbouncer),
        ("PostgreSQL restarted (fast)", stack.restart_postgres),
    ):
        with PullLoop(stack, token) as loop:
            started = time.perf_counter()
            act()
            back = until_healthy(stack, started)
        failed = {s: n for s, n in loop.counts.items() if s != "200"}
        rows.append((name, f"healthy again after {back:.1f} s", str(failed or "none")))
    return rows


def section(startup, rows, fault_rows, prod_check_seconds) -> str:
    lines = [
        SECTION,
        "",
        f"`bench/prod_rehearsal.py` on {platform.node() or 'this machine'} "
        f"({datetime.now(UTC):%Y-%m-%d}): the stack of `make prod-check` (nginx with TLS, two "
        "gunicorn nodes of 2 workers x 4 threads, PgBouncer in transaction mode, its own "
        "PostgreSQL 15, the push worker) on 2 cores shared with other work, so absolute "
        "times are high and noisy; the comparisons hold.",
        "",
    ]
    if prod_check_seconds:
        lines += [f"- `make prod-check` wall time: **{prod_check_seconds} s** (7 tests).", ""]
    lines += [f"- Stack up (initdb, migrations, demo seed, nodes, nginx): {startup:.1f} s.", ""]
    lines += ["| request | path | p50 ms | p95 ms |", "|---|---|---|---|"]
    lines += [f"| `{path}` | {how} | {p50:.1f} | {p95:.1f} |" for path, how, p50, p95 in rows]
    lines += ["", "| fault | effect | answers other than 200 meanwhile |", "|---|---|---|"]
    lines += [f"| {name} | {effect} | {other} |" for name, effect, other in fault_rows]
    lines += [
        "",
        "A killed worker or a stopped node costs no request: nginx passes a refused "
        "connection to the other node. While PgBouncer or PostgreSQL restarts, the app "
        "answers `503 database_unavailable` with `Retry-After` (a phone keeps its outbox "
        "and tries again); `bench/soak.py` measures the same faults under 1,000 phones.",
    ]
    return "\n".join(lines) + "\n"


def write_section(text: str):
    path = ROOT / "docs" / "benchmarks.md"
    current = path.read_text()
    start = current.find(SECTION + "\n")
    if start == -1:
        path.write_text(current.rstrip("\n") + "\n\n" + text)
        return
    following = current.find("\n## ", start + len(SECTION))
    rest = current[following + 1 :] if following != -1 else ""
    path.write_text(current[:start] + text + ("\n" + rest if rest else ""))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--prod-check-seconds", type=int, default=None)
    args = parser.parse_args()
    started = time.perf_counter()
    with ProductionStack() as stack:
        startup = time.perf_counter() - started
        token, _, _ = Https(stack).login(VOLUNTEER)
        rows = latency(stack, token, args.requests)
        fault_rows = faults(stack, token)
    text = section(startup, rows, fault_rows, args.prod_check_seconds)
    print(text)
    write_section(text)
    print("wrote docs/benchmarks.md (## Production rehearsal)")


if __name__ == "__main__":
    main()
