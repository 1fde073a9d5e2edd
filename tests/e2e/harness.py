"""The real thing for browser tests and the app benchmark: the server on a throwaway
PostgreSQL database, the built app, and Debian's Chromium."""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
PWA = ROOT / "pwa"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DEMO_PASSWORD = "booth-demo"
VOLUNTEER, VOLUNTEER_2, BLOCK_PRESIDENT = "9000000001", "9000000006", "9000000002"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_app(out: Path, release: str | None = None) -> Path:
    """Build the app into `out`; a given release id makes a distinct new release."""
    env = {**os.environ, "PWA_OUT": str(out)}
    if release:
        env["PWA_RELEASE"] = release
    if not (PWA / "node_modules").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=PWA, check=True)
    subprocess.run(["node", "build.mjs"], cwd=PWA, env=env, check=True, capture_output=True)
    return out


def deploy(release_dir: Path, live_dir: Path):
    """Swap the served files for another build, as a deploy would."""
    staging = live_dir.with_name(live_dir.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(release_dir, staging)
    old = live_dir.with_name(live_dir.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    live_dir.rename(old)
    staging.rename(live_dir)
    shutil.rmtree(old, ignore_errors=True)


class LiveServer:
    """gunicorn serving create_app() on a free loopback port, on its own PostgreSQL database."""

    def __init__(self, dist: Path, access_log: bool = False):
        self.dist = dist
        self.access_log = access_log
        self.db_name = "booth_e2e_" + uuid.uuid4().hex[:10]
        base = PG_ADMIN_URL.rsplit("/", 1)[0]
        self.database_url = f"{base}/{self.db_name}"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.instance = Path(tempfile.mkdtemp(prefix="booth-e2e-"))
        self.process = None
        self._log = None
        self.log_path = self.instance / "server.log"

    def env(self) -> dict:
        return {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "SECRET_KEY": "e2e-secret-key-long-enough-for-hs256-signing",
            "PWA_DIST": str(self.dist),
            # Every test logs in from 127.0.0.1: the per-address limit would stop the suite.
            "LOGIN_LIMIT_PER_ADDRESS": "10000",
            "LOGIN_LIMIT_PER_PHONE": "10000",
            "PASSWORD_TIME_COST": "1",
            "PASSWORD_MEMORY_COST": "8192",
        }

    def flask(self, *args):
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "server", *args],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")

    def start(self):
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{self.db_name}"')
        self.flask("init-db")
        self.flask("seed-demo")
        self._log = open(self.log_path, "wb")  # noqa: SIM115  (kept open for the server)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                "2",
                "--threads",
                "4",
                "--bind",
                f"127.0.0.1:{self.port}",
                *(["--access-logfile", "-"] if self.access_log else []),
                "server:create_app()",
            ],
            cwd=ROOT,
            env=self.env(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("server exited:\n" + self.log_path.read_text())
            try:
                urllib.request.urlopen(self.url + "/api/openapi.json", timeout=2)
                return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("server did not start:\n" + self.log_path.read_text())

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log:
            self._log.close()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
        shutil.rmtree(self.instance, ignore_errors=True)

    def requests_since(self, offset: int) -> list[str]:
        """Request lines the server logged after byte `offset` of its log (with access_log)."""
        self._log.flush()
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            lines = f.read().decode("utf-8", "replace").splitlines()
        return [line.split('"')[1] for line in lines if line.count('"') >= 2]

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def query(self, sql: str, *params):
        """Rows from the server's database, to check what really arrived."""
        with psycopg.connect(self.database_url) as conn:
            return conn.execute(sql, params).fetchall()

    def execute(self, sql: str, *params):
        with psycopg.connect(self.database_url) as conn:
            conn.execute(sql, params)
