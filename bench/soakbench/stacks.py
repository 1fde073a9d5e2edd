"""The stack a soak runs against: the production rehearsal (nginx, two gunicorn nodes,
PgBouncer, the push worker and a PostgreSQL cluster of its own), or a local stand-in."""

from contextlib import contextmanager


@contextmanager
def open_stack(kind: str):
    """Yields an object with `urls()`, `database_url` (direct, not through PgBouncer),
    `secret_key`, `ca_file`, `description` and the fault methods `kill_worker(node)`,
    `stop_node(i)`, `start_node(i)`, `restart_pgbouncer()`, `restart_postgres()`."""
    if kind == "local":
        with _local() as stack:
            yield stack
        return
    with _production() as stack:
        yield stack


class Rehearsal:
    """tests/prod/stack.py's ProductionStack as the soak uses it."""

    def __init__(self, stack):
        self.stack = stack
        self.database_url = stack.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
        self.secret_key = stack.app_env()["SECRET_KEY"]
        self.ca_file = str(stack.ca_path)
        self.description = (
            f"tests/prod/stack.py: nginx (TLS, self-signed) in front of {stack.node_count} "
            f"gunicorn nodes (deploy/gunicorn.conf.py, {stack.workers} gthread workers of "
            f"{stack.threads} threads each), PgBouncer in transaction mode, the push worker, "
            "and a PostgreSQL cluster of its own, all on this machine"
        )

    def urls(self) -> list[str]:
        return [self.stack.base_url]

    def log_paths(self) -> list:
        return [self.stack.log_path(f"node-{i}.log") for i in range(self.stack.node_count)]

    def process_groups(self) -> dict[str, list[int]]:
        """Root pids of each part (CpuSampler adds the processes below them)."""
        s = self.stack
        postmaster = s.postgres.data / "postmaster.pid" if s.postgres else None
        bouncer = s.dir / "pgbouncer" / "pgbouncer.pid"
        return {
            "app nodes (gunicorn)": [p.pid for p in s.nodes if p is not None],
            "PostgreSQL": [_first_int(postmaster)],
            "PgBouncer": [_first_int(bouncer)],
            "nginx": [s.nginx.pid if s.nginx else 0],
            "push worker": [s.push_worker.pid if s.push_worker else 0],
        }

    def kill_worker(self, node: int):
        return f"pid {self.stack.kill_worker(node)}"

    def stop_node(self, node: int):
        self.stack.stop_node(node)

    def start_node(self, node: int):
        self.stack.start_node(node)

    def restart_pgbouncer(self):
        self.stack.restart_pgbouncer()

    def restart_postgres(self):
        self.stack.restart_postgres()


def _first_int(path) -> int:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError, AttributeError):
        return 0


@contextmanager
def _production():
    from tests.prod.stack import ProductionStack

    with ProductionStack(own_postgres=True, seed_demo=False) as stack:
        yield Rehearsal(stack)


@contextmanager
def _local():
    from soakbench.faults import LocalStack

    from tests.server.syncing.server_process import init_schema, throwaway_database

    with throwaway_database(prefix="booth_soak_") as url:
        init_schema(url)
        with LocalStack(url) as stack:
            stack.description = (
                "two gunicorn nodes (2 sync workers each) on the machine's shared PostgreSQL, "
                "no nginx or PgBouncer (local stand-in)"
            )
            yield stack
