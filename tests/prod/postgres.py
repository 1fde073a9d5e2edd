"""The rehearsal's own PostgreSQL cluster: initdb into a temp folder, on its own port, run
by the `postgres` OS user (we are root in CI), so it can be restarted like a real one."""

import subprocess
from pathlib import Path

import psycopg

from tests.prod.processes import as_service_user, free_port, give_to_service_user, pg_program


class OwnPostgres:
    """A throwaway cluster in `root`; `url(db)` reaches it over TCP on 127.0.0.1."""

    def __init__(self, root: Path):
        self.root = root
        self.data = root / "data"
        self.sockets = root / "sockets"
        self.log = root / "postgres.log"
        self.port = free_port()

    def url(self, database="postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *argv, check=True):
        return subprocess.run(
            as_service_user(list(argv)), capture_output=True, text=True, check=check
        )

    def init(self):
        self.root.mkdir(parents=True, exist_ok=True)
        self.sockets.mkdir(exist_ok=True)
        self.log.touch()
        give_to_service_user(self.root, self.sockets, self.log)
        self._run(
            pg_program("initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        return self

    def start(self):
        options = (
            f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 "
            "-c max_connections=300 -c shared_buffers=128MB"
        )
        done = self._run(
            pg_program("pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
            check=False,
        )
        if done.returncode:
            raise RuntimeError(f"PostgreSQL did not start:\n{done.stderr}\n{self.log.read_text()}")
        return self

    def stop(self, mode="fast"):
        if (self.data / "postmaster.pid").exists():
            self._run(
                pg_program("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop", check=False
            )

    def restart(self, mode="fast"):
        """Stop (`fast`: connections are cut; `immediate`: a crash) and start again."""
        self.stop(mode)
        self.start()

    def create_database(self, name: str):
        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
