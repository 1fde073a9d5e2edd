"""The real app under gunicorn on a throwaway PostgreSQL database, for crash tests and benchmarks.

    with throwaway_database() as url:
        init_schema(url)
        with GunicornServer(url, workers=2) as server:
            requests.get(server.url + "/api/...")

The server listens on a free 127.0.0.1 port (gunicorn binds port 0 and logs the one it
got, so two runs never race for a port) and is stopped, with its workers, on exit.
"""

import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[3]
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SECRET_KEY = "server-process-secret-key-long-enough-for-hs256"
# Settings the app (or the crash test's, crashing_app.py) reads from the environment that a
# caller's shell must not leak in.
APP_SETTINGS = ("DATABASE_URL", "SECRET_KEY", "SYNC_CRASH_AFTER", "PUSH_INPROCESS")
APP = "server:create_app()"
LISTENING_RE = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")
BOOTED_RE = re.compile(r"Booting worker with pid: (\d+)")


class ServerFailed(RuntimeError):
    """The server did not come up, or died; the message carries the end of its log."""


def postgres_reachable(admin_url: str = PG_ADMIN_URL) -> str | None:
    """None when PostgreSQL answers at `admin_url`, else why not."""
    try:
        psycopg.connect(admin_url, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        return str(exc)
    return None


@contextmanager
def throwaway_database(admin_url: str = PG_ADMIN_URL, prefix: str = "booth_srv_"):
    """A new, empty PostgreSQL database, dropped on exit; yields its SQLAlchemy URL."""
    name = prefix + uuid.uuid4().hex[:10]
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def libpq_url(database_url: str) -> str:
    """The psycopg form of a SQLAlchemy URL (for direct checks and COPY)."""
    return database_url.replace("postgresql+psycopg://", "postgresql://", 1)


def server_environment(database_url: str, extra: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in APP_SETTINGS}
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY=SECRET_KEY,
        # Argon2 at production cost would make every seeded login take a second.
        PASSWORD_TIME_COST="1",
        PASSWORD_MEMORY_COST="1024",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra or {})
    return env


def init_schema(database_url: str):
    """Bring the database to the latest schema the way an operator does: `flask init-db`."""
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "server", "init-db"],
        cwd=ROOT,
        env=server_environment(database_url),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise ServerFailed(f"flask init-db failed:\n{done.stdout}\n{done.stderr}")


def app_for(database_url: str):
    """An app bound to the same database and secret as the server (to seed rows, mint tokens)."""
    from server import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": SECRET_KEY,
            "PASSWORD_TIME_COST": 1,
            "PASSWORD_MEMORY_COST": 1024,
        }
    )


class GunicornServer:
    """`server:create_app()` (or another `app`) under gunicorn with sync workers, as
    production runs it."""

    def __init__(
        self,
        database_url,
        workers=1,
        env=None,
        timeout=120,
        log_path=None,
        ready_seconds=60,
        app=APP,
        preload=False,
    ):
        self.database_url = database_url
        self.app = app
        # --preload: the app is made once in the master, so a worker that dies is
        # replaced by a fork in milliseconds (the crash histories kill hundreds).
        self.preload = preload
        self.workers = workers
        self.env = server_environment(database_url, env)
        self.timeout = timeout
        self.ready_seconds = ready_seconds
        self._own_log = log_path is None
        self.log_path = Path(log_path or tempfile.mkstemp(prefix="gunicorn-", suffix=".log")[1])
        self.process = None
        self.url = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        self._log = open(self.log_path, "w")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(self.workers),
                "--bind",
                "127.0.0.1:0",
                "--max-requests",
                "0",
                "--timeout",
                str(self.timeout),
                "--chdir",
                str(ROOT),
                # The default control socket is one path per user: servers running side by
                # side (tests, benchmarks) would take it from each other.
                "--no-control-socket",
                *(["--preload"] if self.preload else []),
                self.app,
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + self.ready_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                raise ServerFailed(f"gunicorn exited at start:\n{self.log_tail()}")
            text = self.log()
            port = LISTENING_RE.search(text)
            if port and len(self.worker_pids()) >= self.workers and self._answers(port[1]):
                self.url = f"http://127.0.0.1:{port[1]}"
                return self
            time.sleep(0.1)
        self.stop()
        raise ServerFailed(f"gunicorn not ready in {self.ready_seconds}s:\n{self.log_tail()}")

    def _answers(self, port) -> bool:
        import http.client

        connection = http.client.HTTPConnection("127.0.0.1", int(port), timeout=5)
        try:
            connection.request("GET", "/api/sync/pull")
            return connection.getresponse().status == 401
        except OSError:
            return False
        finally:
            connection.close()

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "_log", None) is not None and not self._log.closed:
            self._log.close()

    def cleanup(self):
        """Remove the log file when this object made it."""
        if self._own_log:
            self.log_path.unlink(missing_ok=True)

    def wait_for_log(self, text: str, seconds: float = 15) -> bool:
        """Wait until the log holds `text` (the master logs a worker's death after reaping it)."""
        deadline = time.monotonic() + seconds
        while text not in self.log():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines=40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def worker_pids(self) -> list[int]:
        """The master's live children (its workers), from /proc."""
        if self.process is None:
            return []
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            # The command name may hold spaces or parentheses: fields start after the last ')'.
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == self.process.pid and fields[0] != "Z":
                pids.append(int(entry))
        return sorted(pids)


def rss_bytes(pid: int) -> int:
    """Resident memory of a process, 0 when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class MemorySampler:
    """Samples the RSS of a server's workers in a thread; keeps the peaks."""

    def __init__(self, server: GunicornServer, every_seconds=0.5):
        self.server = server
        self.every = every_seconds
        self.peak_total = 0
        self.peak_worker = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def sample(self):
        sizes = [rss_bytes(pid) for pid in self.server.worker_pids()]
        self.peak_total = max(self.peak_total, sum(sizes))
        self.peak_worker = max([self.peak_worker, *sizes])

    def _run(self):
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.every)
