"""The production stack on 127.0.0.1, from the files in deploy/: nginx terminating TLS with a
self-signed certificate in front of two gunicorn app nodes, PgBouncer in transaction mode,
PostgreSQL (a cluster of its own, or the machine's) and the push worker. Everything lives
in one temp folder on unprivileged ports; no system configuration is touched.

    with ProductionStack() as stack:
        stack.base_url, stack.ca_path, stack.database_url
        stack.kill_worker(0); stack.stop_node(1); stack.start_node(1)
        stack.restart_pgbouncer(); stack.restart_postgres()

`make prod-check` runs tests/prod with it; bench/soak.py puts faults on it.
"""

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import psycopg
from cryptography.hazmat.primitives.asymmetric import ec

from server.push.vapid import b64url, public_key_b64
from tests.prod import nginx as nginx_conf
from tests.prod.postgres import OwnPostgres
from tests.prod.processes import (
    MissingPiece,
    as_service_user,
    children,
    free_port,
    give_to_service_user,
    program,
    stop,
    tail,
    wait_for_port,
)

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIST = ROOT / "pwa" / "dist"
MACHINE_PG_ADMIN_URL = os.environ.get(
    "TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
__all__ = ["MissingPiece", "ProductionStack"]
log = logging.getLogger(__name__)


class ProductionStack:
    """Start with `with` (or start()/stop()); every fault method waits until it is done."""

    def __init__(
        self,
        *,
        nodes: int = 2,
        workers: int = 2,
        threads: int = 4,
        dist: Path | None = None,
        own_postgres: bool = True,
        push_worker: bool = True,
        seed_demo: bool = True,
        env: dict | None = None,
    ):
        self.node_count, self.workers, self.threads = nodes, workers, threads
        self.dist_source = Path(dist or DEFAULT_DIST)
        self.own_postgres, self.with_push_worker, self.seed_demo = (
            own_postgres,
            push_worker,
            seed_demo,
        )
        self.extra_env = env or {}
        self.dir: Path | None = None
        self.postgres: OwnPostgres | None = None
        self.db_name = "booth_prod_" + uuid.uuid4().hex[:8]
        self.node_ports = [free_port() for _ in range(nodes)]
        self.nodes: list[subprocess.Popen | None] = [None] * nodes
        self.https_port = free_port()
        self.bouncer_port = free_port()
        self.nginx = self.bouncer = self.push_worker = None
        self._logs = []
        vapid = ec.generate_private_key(ec.SECP256R1())
        self.vapid_private = b64url(vapid.private_numbers().private_value.to_bytes(32, "big"))
        self.vapid_public = public_key_b64(vapid)

    # -- where things are ----------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def ca_path(self) -> Path:
        """The self-signed certificate nginx serves: trust it as the CA."""
        return self.dir / "tls" / "cert.pem"

    @property
    def admin_url(self) -> str:
        return self.postgres.url() if self.postgres else MACHINE_PG_ADMIN_URL

    @property
    def database_url(self) -> str:
        """The app's database, directly (not through PgBouncer)."""
        return self.admin_url.rsplit("/", 1)[0] + "/" + self.db_name

    @property
    def bouncer_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.bouncer_port}/{self.db_name}"

    @property
    def metrics_dir(self) -> Path:
        return self.dir / "metrics"

    def node_url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.node_ports[i]}"

    def log_path(self, name: str) -> Path:
        """node-0.log, node-1.log, push-worker.log, nginx/access.log, pgbouncer/pgbouncer.log..."""
        return self.dir / name

    # -- up and down ---------------------------------------------------------------

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        for name in ("nginx", "pgbouncer", "openssl"):
            program(name)
        self.dir = Path(tempfile.mkdtemp(prefix="booth-prod-"))
        self.dir.chmod(0o755)
        started = time.monotonic()
        try:
            self._certificate()
            self._database()
            log.info("stack: database ready after %.1f s", time.monotonic() - started)
            self._start_bouncer()
            for i in range(self.node_count):
                self.start_node(i, wait=False)
            for i in range(self.node_count):
                self._wait_node(i)
            log.info("stack: %d nodes up after %.1f s", self.node_count, time.monotonic() - started)
            self._start_nginx()
            if self.with_push_worker:
                self._start_push_worker()
            self.wait_healthy()
            log.info("stack: healthy at %s after %.1f s", self.base_url, time.monotonic() - started)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        stop(self.push_worker)
        stop(self.nginx, signal_name="terminate")
        for i in range(self.node_count):
            self.stop_node(i)
        self._stop_bouncer()
        if self.postgres:
            self.postgres.stop()
        elif self.dir is not None:
            try:
                with psycopg.connect(MACHINE_PG_ADMIN_URL, autocommit=True) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
            except psycopg.Error:
                pass
        for handle in self._logs:
            handle.close()
        self._logs = []
        if self.dir is not None and not os.environ.get("KEEP_PROD_STACK"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def app_env(self) -> dict:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("GUNICORN_", "PROMETHEUS_", "DATABASE_", "PUSH_"))
        }
        env.update(
            DATABASE_URL=self.bouncer_url,
            DATABASE_POOLER="pgbouncer",
            SECRET_KEY="rehearsal-secret-key-long-enough-for-hs256-signing",
            PWA_DIST=str(self.dir / "www"),
            PROXY_HOPS="1",
            LOG_FORMAT="json",
            PROMETHEUS_MULTIPROC_DIR=str(self.metrics_dir),
            VAPID_PRIVATE_KEY=self.vapid_private,
            VAPID_SUBJECT="mailto:ops@example.org",
            PUSH_ALLOWED_HOSTS="127.0.0.1",
            PUSH_POLL_SECONDS="0.5",
            # Every phone of a rehearsal comes from 127.0.0.1.
            LOGIN_LIMIT_PER_ADDRESS="1000000",
            LOGIN_LIMIT_PER_PHONE="1000000",
            LOGIN_SLOWDOWN_MAX_SECONDS="0",
            PASSWORD_TIME_COST="1",
            PASSWORD_MEMORY_COST="8192",
        )
        env.update(self.extra_env)
        return env

    def flask(self, *args, direct=True):
        """Run `flask --app server ARGS` (on the database directly, as an operator would)."""
        env = self.app_env() | ({"DATABASE_URL": self.database_url} if direct else {})
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "server", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def _certificate(self):
        tls = self.dir / "tls"
        tls.mkdir()
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "2",
                "-keyout",
                str(tls / "key.pem"),
                "-out",
                str(tls / "cert.pem"),
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
            ],
            check=True,
            capture_output=True,
        )

    def _database(self):
        if self.own_postgres:
            self.postgres = OwnPostgres(self.dir / "postgres").init().start()
            self.postgres.create_database(self.db_name)
        else:
            with psycopg.connect(MACHINE_PG_ADMIN_URL, autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{self.db_name}"')
        shutil.copytree(self.dist_source, self.dir / "www")
        self.metrics_dir.mkdir()
        # Migrations are their own step, on the database directly, before the nodes start.
        self.flask("init-db")
        if self.seed_demo:
            self.flask("seed-demo")

    # -- PgBouncer -------------------------------------------------------------------

    def _start_bouncer(self):
        home = self.dir / "pgbouncer"
        if not home.exists():
            home.mkdir()
            host, port = self.admin_url.split("@", 1)[1].split("/")[0].split(":")
            (home / "pgbouncer.ini").write_text(
                nginx_conf.pgbouncer_ini(home, self.bouncer_port, self.db_name, host, port)
            )
            (home / "userlist.txt").write_text('"postgres" ""\n')
            give_to_service_user(home, home / "pgbouncer.ini", home / "userlist.txt")
        log = open(home / "stdout.log", "ab")  # noqa: SIM115  (kept open for the process)
        self._logs.append(log)
        self.bouncer = subprocess.Popen(
            as_service_user([program("pgbouncer"), str(home / "pgbouncer.ini")]),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(self.bouncer_port, 20, self.bouncer, home / "pgbouncer.log")

    def _stop_bouncer(self):
        pidfile = self.dir / "pgbouncer" / "pgbouncer.pid" if self.dir else None
        if self.bouncer is not None and self.bouncer.poll() is None and pidfile.exists():
            # runuser's pid is not PgBouncer's: signal PgBouncer itself (SIGINT: at once).
            with contextlib.suppress(ValueError, ProcessLookupError):
                os.kill(int(pidfile.read_text().strip()), signal.SIGINT)
        stop(self.bouncer)
        self.bouncer = None

    def restart_pgbouncer(self):
        """Stop PgBouncer (clients' connections drop) and start it again on the same port."""
        self._stop_bouncer()
        self._start_bouncer()

    def restart_postgres(self, mode: str = "fast"):
        """Restart the stack's own PostgreSQL (`fast` cuts connections; `immediate` crashes)."""
        if self.postgres is None:
            raise RuntimeError("this stack uses the machine's PostgreSQL: own_postgres=True")
        self.postgres.restart(mode)

    # -- the app nodes ---------------------------------------------------------------

    def start_node(self, i: int, wait: bool = True):
        """Start app node `i` (gunicorn with deploy/gunicorn.conf.py) and wait until healthy."""
        if self.nodes[i] is not None and self.nodes[i].poll() is None:
            return
        log = open(self.dir / f"node-{i}.log", "ab")  # noqa: SIM115
        self._logs.append(log)
        env = self.app_env() | {
            "GUNICORN_BIND": f"127.0.0.1:{self.node_ports[i]}",
            "GUNICORN_WORKERS": str(self.workers),
            "GUNICORN_THREADS": str(self.threads),
            "GUNICORN_NAME": f"booth-node-{i}",
        }
        self.nodes[i] = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py")],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        if wait:
            self._wait_node(i)

    def _wait_node(self, i: int, timeout: float = 60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.nodes[i].poll() is not None:
                raise RuntimeError(f"node {i} exited:\n{tail(self.dir / f'node-{i}.log')}")
            try:
                with urllib.request.urlopen(self.node_url(i) + "/api/health", timeout=5):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"node {i} is not healthy:\n{tail(self.dir / f'node-{i}.log')}")

    def stop_node(self, i: int):
        """Stop app node `i` gracefully (SIGTERM: requests in hand finish)."""
        stop(self.nodes[i], timeout=40)
        self.nodes[i] = None

    def worker_pids(self, node: int) -> list[int]:
        process = self.nodes[node]
        return children(process.pid) if process is not None else []

    def kill_worker(self, node: int) -> int:
        """SIGKILL one gunicorn worker of `node` (its master starts another); its pid."""
        pids = self.worker_pids(node)
        if not pids:
            raise RuntimeError(f"node {node} has no workers")
        os.kill(pids[0], signal.SIGKILL)
        return pids[0]

    # -- nginx and the push worker ---------------------------------------------------

    def _start_nginx(self):
        home = self.dir / "nginx"
        nginx_conf.write(home, self)
        log = open(home / "stdout.log", "ab")  # noqa: SIM115
        self._logs.append(log)
        self.nginx = subprocess.Popen(
            [
                program("nginx"),
                "-p",
                str(home),
                "-e",
                str(home / "error.log"),
                "-c",
                str(home / "nginx.conf"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(self.https_port, 20, self.nginx, home / "error.log")

    def _start_push_worker(self):
        log = open(self.dir / "push-worker.log", "ab")  # noqa: SIM115
        self._logs.append(log)
        self.push_worker = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "server", "push-worker"],
            cwd=ROOT,
            env=self.app_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def wait_healthy(self, timeout: float = 30):
        """Until https://.../api/health through nginx answers 200."""
        from tests.prod.client import Https

        client = Https(self)
        deadline = time.monotonic() + timeout
        while True:
            try:
                status, _, _ = client.request("GET", "/api/health")
                if status == 200:
                    return
            except OSError:
                status = None
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"not healthy through nginx ({status}):\n"
                    + tail(self.dir / "nginx" / "error.log")
                )
            time.sleep(0.2)

    # -- reading the database -------------------------------------------------------

    def query(self, sql: str, *params):
        with psycopg.connect(self.database_url) as conn:
            return conn.execute(sql, params).fetchall()

    def execute(self, sql: str, *params):
        with psycopg.connect(self.database_url) as conn:
            conn.execute(sql, params)
