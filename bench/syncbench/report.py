"""The machine, the load and the report: what each sync benchmark prints and writes to
docs/benchmarks.md, and the CPU and statistics readings it takes while it runs."""

import os
import platform
import re
import statistics
import subprocess
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "benchmarks.md"
SECTION = "## Sync"
WORKERS = 2


def machine() -> str:
    """CPU model, cores and memory of this machine, and the PostgreSQL it runs."""
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory = int(line.split()[1]) // 1024 // 1024
    return f"{cpu}, {os.cpu_count()} cores, {memory} GiB RAM, Python {platform.python_version()}"


def postgres_version(url: str) -> str:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1)) as conn:
        return conn.execute("SHOW server_version").fetchone()[0].split()[0]


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def git_commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


def write_report(title: str, lines: list[str]):
    """Put `### title` with `lines` under `## Sync` in docs/benchmarks.md, replacing the old one.

    Only the sync section is touched: other sections of the file belong to other benchmarks.
    """
    DOCS.parent.mkdir(exist_ok=True)
    doc = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    block = f"### {title}\n" + "\n".join(lines).rstrip() + "\n"
    start = doc.find("\n" + SECTION + "\n")
    if start < 0:
        doc = doc.rstrip() + f"\n\n{SECTION}\n\n{block}"
    else:
        body_start = start + len(SECTION) + 2
        following = re.search(r"^## ", doc[body_start:], re.M)
        body_end = body_start + following.start() if following else len(doc)
        body = doc[body_start:body_end]
        old = re.search(rf"^### {re.escape(title)}\n.*?(?=^### |\Z)", body, re.M | re.S)
        if old:
            body = body[: old.start()] + block + "\n" + body[old.end() :].lstrip("\n")
        else:
            body = body.rstrip("\n") + "\n\n" + block
        doc = (
            doc[:body_start]
            + body.rstrip("\n")
            + "\n"
            + ("\n" + doc[body_end:] if following else "")
        )
    DOCS.write_text(doc.rstrip("\n") + "\n")


def code_version() -> str:
    """The commit, and whether the server or engine code differs from it in the checkout."""
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "server", "sync"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return git_commit() + (" with uncommitted changes to server/ or sync/" if dirty else "")


# Taken when a benchmark starts: the workers load the code as it is now, and the report
# is written at the end, when the checkout and the machine's load may have moved on.
STARTED = {"when": today(), "code": code_version(), "load": load_average()}


def context_lines(url: str, extra: str = "") -> list[str]:
    return [
        f"Run {STARTED['when']} at commit {STARTED['code']} on {machine()}; PostgreSQL "
        f"{postgres_version(url)} on the same machine; gunicorn with {WORKERS} sync workers; "
        f"load average at start {STARTED['load']} (the machine is shared).{extra}",
        "",
    ]


def percentile(values, p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def mean(values) -> float:
    return statistics.fmean(values) if values else 0.0


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used, 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU time used by the gunicorn workers and by the database's PostgreSQL backends
    between two readings: where a mutation's cost goes, whatever else the machine runs."""

    def __init__(self, server, url: str):
        import psycopg

        self.server = server
        self.conn = psycopg.connect(
            url.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True
        )
        self.seen: dict[int, float] = {}

    def backends(self) -> list[int]:
        rows = self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        ).fetchall()
        return [pid for (pid,) in rows]

    def reading(self) -> dict:
        """{"app", "db", "client": seconds} used since the last reading (the client is this
        benchmark process, which shares the machine)."""
        client = time.process_time()
        used = {"app": 0.0, "db": 0.0, "client": client - self.seen.get(0, client)}
        self.seen[0] = client
        for kind, pids in (("app", self.server.worker_pids()), ("db", self.backends())):
            for pid in pids:
                now = cpu_seconds(pid)
                used[kind] += now - self.seen.get(pid, 0.0)
                self.seen[pid] = now
        return used

    def close(self):
        self.conn.close()


class AutoAnalyze:
    """ANALYZE the tables a run grows whenever autovacuum would (50 rows + 10% changed),
    when this PostgreSQL runs with autovacuum off (this machine's does).

    Without statistics PostgreSQL keeps the generic plans of prepared statements that it
    made while the tables were empty, sequential scans included, and a push then costs more
    with every member stored: that is this machine's setting, not what production sees.
    """

    TABLES = ("members", "record_changes", "applied_mutations", "audit_log", "grievances")

    def __init__(self, url: str, every_seconds=5):
        import psycopg

        self.conn = psycopg.connect(
            url.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True
        )
        self.active = self.conn.execute("SHOW autovacuum").fetchone()[0] == "off"
        self.runs = 0
        self.every = every_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="auto-analyze", daemon=True)

    def __enter__(self):
        if self.active:
            self.analyze(self.TABLES + ("units", "users", "devices"))
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self.conn.close()

    def analyze(self, tables):
        self.conn.execute(f"ANALYZE {', '.join(tables)}")
        self.runs += 1

    def _run(self):
        while not self._stop.wait(self.every):
            due = self.conn.execute(
                "SELECT relname FROM pg_stat_user_tables WHERE relname = ANY(%s) "
                "AND n_mod_since_analyze > 50 + 0.1 * n_live_tup",
                (list(self.TABLES),),
            ).fetchall()
            if due:
                self.analyze([name for (name,) in due])

    def note(self) -> str:
        if not self.active:
            return ""
        return (
            f" This PostgreSQL runs with autovacuum off, so the benchmark ran ANALYZE as "
            f"autovacuum would ({self.runs} times)."
        )
